//! Namera: scoped access to a ZeroDev Kernel v3 smart account.
