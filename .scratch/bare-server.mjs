import http from "node:http";
import express from "express";
const mode = process.argv[2];
let handler;
if (mode === "http") handler = (req, res) => { const b = '{"ok":true}'; res.writeHead(200, {"content-type": "application/json", "content-length": b.length}); res.end(b); };
else { const app = express(); app.set("etag", false); app.get("/x", (req, res) => { const b = '{"ok":true}'; res.writeHead(200, {"content-type": "application/json", "content-length": b.length}); res.end(b); }); handler = app; }
http.createServer(handler).listen(Number(process.env.PORT));
