// A scripted OpenAI-compatible model on loopback for the e2e agent turn: the first request of a
// conversation gets one `exec` tool call, the next (carrying the tool's result) a final answer that
// quotes that result. No language model; every answer is fixed. Streams (SSE) or not, as asked.
import http from "node:http";

const COMMAND = "echo agent-turn; readlink /proc/self/ns/pid; pwd";

function reply(body) {
  const messages = body.messages ?? [];
  const toolResult = [...messages].reverse().find((m) => m.role === "tool");
  if (!toolResult) {
    return { tool_calls: [{ id: "call_e2e_1", type: "function",
                            function: { name: "exec", arguments: JSON.stringify({ command: COMMAND }) } }] };
  }
  const text = typeof toolResult.content === "string" ? toolResult.content
    : (toolResult.content ?? []).map((c) => c.text ?? "").join("");
  return { content: `TOOL RESULT WAS: ${text}` };
}

function sendJson(res, body, message) {
  const finish = message.tool_calls ? "tool_calls" : "stop";
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({
    id: "chatcmpl-e2e", object: "chat.completion", created: Math.floor(Date.now() / 1000), model: body.model,
    choices: [{ index: 0, message: { role: "assistant", content: message.content ?? null, ...message }, finish_reason: finish }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  }));
}

function sendStream(res, body, message) {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const chunk = (delta, finish = null) => res.write(`data: ${JSON.stringify({
    id: "chatcmpl-e2e", object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: body.model,
    choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`);
  chunk({ role: "assistant" });
  if (message.tool_calls) {
    chunk({ tool_calls: message.tool_calls.map((t, index) => ({ index, ...t })) });
    chunk({}, "tool_calls");
  } else {
    chunk({ content: message.content });
    chunk({}, "stop");
  }
  res.write(`data: ${JSON.stringify({ id: "chatcmpl-e2e", object: "chat.completion.chunk", choices: [],
                                       usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })}\n\n`);
  res.end("data: [DONE]\n\n");
}

export function startScriptedModel(log = () => {}) {
  const requests = [];
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (d) => { raw += d; });
    req.on("end", () => {
      if (req.method === "GET" && req.url.endsWith("/models")) {
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(JSON.stringify({ object: "list", data: [{ id: "scripted", object: "model" }] }));
      }
      if (req.method !== "POST" || !req.url.endsWith("/chat/completions")) {
        res.writeHead(404);
        return res.end();
      }
      let body;
      try {
        body = JSON.parse(raw);
      } catch {
        res.writeHead(400);
        return res.end();
      }
      requests.push(body);
      const message = reply(body);
      log(`model request ${requests.length}: ${message.tool_calls ? "-> exec tool call" : "-> final answer"}`);
      (body.stream ? sendStream : sendJson)(res, body, message);
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({
    port: server.address().port, requests, close: () => new Promise((r) => server.close(r)),
  })));
}
