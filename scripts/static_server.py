#!/usr/bin/env python3
"""Serves the built app (dist/) on loopback with single-page-app fallback.

Paths that name no file (/configure, /runs/abc) get index.html, so deep links and reloads work;
everything else is served as a static file with the right MIME type for .wasm.
"""
import argparse
import functools
import http.server
import os
import sys


class SpaHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".js": "text/javascript",
        ".json": "application/json",
    }

    def send_head(self):
        path = self.translate_path(self.path)
        if not os.path.exists(path) and "." not in os.path.basename(self.path.split("?")[0]):
            self.path = "/index.html"
        return super().send_head()

    def end_headers(self):
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, fmt, *args):
        if os.environ.get("TRIALOGUE_SERVER_LOG"):
            super().log_message(fmt, *args)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--dir", default="dist")
    args = parser.parse_args()
    if not os.path.isfile(os.path.join(args.dir, "index.html")):
        sys.exit(f"static_server: {args.dir}/index.html not found; build first")
    handler = functools.partial(SpaHandler, directory=args.dir)
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    except OSError as err:
        sys.exit(f"static_server: cannot listen on 127.0.0.1:{args.port} ({err.strerror}); "
                 f"is another server using it? Try --port.")
    print(f"Trialogue is at http://127.0.0.1:{args.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
