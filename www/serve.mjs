// Static server for the admin console: no dependencies, loopback only.
// Serves the repository's www/ and pkg/ folders so the page can import ../pkg/index.mjs.
// PORT (default 8080; 0 picks a free port). Prints the page URL once listening.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const servedDirs = ["www", "pkg"];
const host = "127.0.0.1";
const port = Number.parseInt(process.env.PORT ?? "8080", 10);

const contentTypes = {
  ".html": "text/html; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
};

function resolvePath(urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes("\0")) return null;
  const relative = normalize(decoded).replace(/^([/\\])+/, "");
  const top = relative.split(/[/\\]/)[0];
  if (!servedDirs.includes(top) || relative.split(/[/\\]/).includes("..")) return null;
  const full = join(root, relative);
  return full.startsWith(root) ? full : null;
}

async function handle(req, res) {
  const url = new URL(req.url ?? "/", `http://${host}`);
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { Allow: "GET, HEAD" }).end();
    return;
  }
  if (url.pathname === "/" || url.pathname === "/www") {
    res.writeHead(302, { Location: "/www/" }).end();
    return;
  }
  let file = resolvePath(url.pathname);
  if (!file) {
    res.writeHead(404, { "Content-Type": "text/plain" }).end("not found\n");
    return;
  }
  try {
    if ((await stat(file)).isDirectory()) file = join(file, "index.html");
    const body = await readFile(file);
    res.writeHead(200, {
      "Content-Type": contentTypes[extname(file)] ?? "application/octet-stream",
      "Content-Length": body.length,
      "Cache-Control": "no-cache",
      "X-Content-Type-Options": "nosniff",
    });
    res.end(req.method === "HEAD" ? undefined : body);
  } catch {
    const hint = file.includes(`${sep}pkg${sep}`) ? " (run `make build` to build the package)" : "";
    res.writeHead(404, { "Content-Type": "text/plain" }).end(`not found${hint}\n`);
  }
}

const server = createServer((req, res) => {
  handle(req, res).catch(() => res.writeHead(500).end());
});
server.listen(port, host, () => {
  const { port: actual } = server.address();
  console.log(`Kinesis connector console: http://${host}:${actual}/www/`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
