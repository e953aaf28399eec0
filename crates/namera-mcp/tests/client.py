"""An MCP client driven by a JSON plan, for the Rust tests: the PyPI `mcp` package's own
client, so the server is checked against an implementation we did not write.

Plan (argv[1], a JSON file): {"transport": "stdio", "command": ..., "args": [...],
"env": {...}} or {"transport": "http", "url": ..., "token": ...}; "calls": [{"name":
..., "arguments": {...}}]; "concurrent": bool. Prints one JSON object: the tools listed
and, per call, its result and when it started and ended (epoch seconds).
"""

import asyncio
import json
import sys
import time

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def one(session, call):
    start = time.time()
    try:
        r = (await session.call_tool(call["name"], call.get("arguments", {}))).model_dump(
            mode="json", by_alias=True
        )
        out = {
            "is_error": bool(r.get("isError")),
            "structured": r.get("structuredContent"),
            "text": "\n".join(c["text"] for c in r.get("content", []) if "text" in c),
        }
    except Exception as e:  # a protocol error: reported, not raised
        out = {"protocol_error": f"{type(e).__name__}: {e}"}
    out["start"] = start
    out["end"] = time.time()
    return out


async def drive(session, plan):
    init_start = time.time()
    await session.initialize()
    tools = await session.list_tools()
    listed = []
    for t in tools.tools:
        d = t.model_dump(mode="json", by_alias=True)
        listed.append(
            {"name": d["name"], "input_schema": d["inputSchema"], "output_schema": d.get("outputSchema")}
        )
    calls = plan.get("calls", [])
    if plan.get("concurrent"):
        results = await asyncio.gather(*(one(session, c) for c in calls))
    else:
        results = [await one(session, c) for c in calls]
    return {"init_seconds": time.time() - init_start, "tools": listed, "results": list(results)}


async def main():
    with open(sys.argv[1]) as f:
        plan = json.load(f)
    if plan["transport"] == "stdio":
        params = StdioServerParameters(
            command=plan["command"], args=plan.get("args", []), env=plan.get("env")
        )
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                report = await drive(session, plan)
    else:
        headers = {"Authorization": f"Bearer {plan['token']}"}
        async with create_mcp_http_client(headers=headers) as http:
            async with streamable_http_client(plan["url"], http_client=http) as (read, write):
                async with ClientSession(read, write) as session:
                    report = await drive(session, plan)
    print(json.dumps(report))


asyncio.run(main())
