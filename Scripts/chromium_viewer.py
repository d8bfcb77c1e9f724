"""Headless Chromium as an independent viewer of a producer in the test room server.

Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: it reads
commands on fd 3 and writes answers and events on fd 4, each message one JSON text ended by a
NUL byte). The page makes an RTCPeerConnection with one receive-only video transceiver; its
offer goes to the server's `POST /view?producer=ID` (roomserver/browser_view.py), whose aiortc
peer connection answers and forwards that producer's packets to it the way a consumer gets them.
ICE stays on 127.0.0.1: the server gathers on loopback only, and Chromium is told to (see FLAGS).
The page's `getStats()` inbound-rtp video figures (framesDecoded, freezeCount,
totalFreezesDuration, packetsLost, framesPerSecond, ...) are read whenever asked.

Used by Scripts/shaped-link; by hand: python3 Scripts/chromium_viewer.py CONTROL_URL [SECONDS]."""

import fcntl
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

# --no-sandbox: Chromium's sandbox refuses to run as root. The WebRTC flags keep every candidate
# on the machine: loopback is a network Chromium may use (it ignores it by default), no mDNS
# names for host candidates, and the allow-loopback switch of the network list.
FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
    "--disable-extensions", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--mute-audio", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--disable-features=WebRtcHideLocalIpsWithMdns", "--allow-loopback-in-peer-connection",
    "--remote-debugging-pipe", "about:blank",
]

PAGE_SCRIPT = r"""
window.viewer = {
  pc: new RTCPeerConnection({iceServers: []}),
  candidates: [],
  async offer() {
    // the fake camera's permission: without it Chromium gathers on the default route only
    (await navigator.mediaDevices.getUserMedia({video: true})).getTracks().forEach((t) => t.stop());
    this.pc.addTransceiver("video", {direction: "recvonly"});
    this.pc.onicecandidate = (e) => { if (e.candidate) this.candidates.push(e.candidate.candidate); };
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    await new Promise((resolve) => {
      if (this.pc.iceGatheringState === "complete") return resolve();
      this.pc.onicegatheringstatechange = () => { if (this.pc.iceGatheringState === "complete") resolve(); };
      setTimeout(resolve, 3000);
    });
    return {type: "offer", sdp: this.pc.localDescription.sdp};
  },
  async answer(description) {
    await this.pc.setRemoteDescription(description);
    return this.pc.connectionState;
  },
  async stats() {
    const out = {connectionState: this.pc.connectionState, candidates: this.candidates};
    const report = await this.pc.getStats();
    const address = (id) => { const c = report.get(id); return c ? c.address + ":" + c.port : null; };
    report.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") {
        for (const k of ["framesDecoded", "framesReceived", "framesDropped", "keyFramesDecoded", "freezeCount",
                         "totalFreezesDuration", "pauseCount", "totalPausesDuration", "packetsLost", "packetsReceived",
                         "framesPerSecond", "frameWidth", "frameHeight", "nackCount", "pliCount", "firCount",
                         "jitter", "jitterBufferDelay", "jitterBufferEmittedCount", "bytesReceived"]) {
          out[k] = s[k] === undefined ? null : s[k];
        }
      }
      if (s.type === "candidate-pair" && s.nominated) {
        out.selectedPair = {local: address(s.localCandidateId), remote: address(s.remoteCandidateId), state: s.state};
      }
    });
    return out;
  },
};
"""


class DevTools:
    """The DevTools protocol on Chromium's pipe: requests by id, answers read by a thread."""

    def __init__(self, chromium, log_path):
        command_read, self._command_write = os.pipe()
        self._answer_read, answer_write = os.pipe()
        # Above the fds the child gets (3, 4), so that placing one cannot overwrite another.
        high_command = fcntl.fcntl(command_read, fcntl.F_DUPFD, 10)
        high_answer = fcntl.fcntl(answer_write, fcntl.F_DUPFD, 10)
        os.close(command_read)
        os.close(answer_write)

        def place_pipes():
            os.dup2(high_command, 3)
            os.dup2(high_answer, 4)

        self._log = open(log_path, "w")
        self.process = subprocess.Popen([chromium] + FLAGS, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                                        preexec_fn=place_pipes, pass_fds=(3, 4))
        os.close(high_command)
        os.close(high_answer)
        self._next = 0
        self._answers = {}
        self._ready = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        buffer = b""
        while True:
            chunk = os.read(self._answer_read, 65536)
            if not chunk:
                break
            buffer += chunk
            while b"\0" in buffer:
                message, buffer = buffer.split(b"\0", 1)
                try:
                    decoded = json.loads(message)
                except ValueError:
                    continue
                if "id" in decoded:
                    with self._ready:
                        self._answers[decoded["id"]] = decoded
                        self._ready.notify_all()
        with self._ready:
            self._answers[None] = {"error": {"message": "Chromium closed its DevTools pipe"}}
            self._ready.notify_all()

    def call(self, method, params=None, session=None, timeout=20):
        self._next += 1
        request = {"id": self._next, "method": method, "params": params or {}}
        if session:
            request["sessionId"] = session
        os.write(self._command_write, json.dumps(request).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._ready:
            while request["id"] not in self._answers and None not in self._answers:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("DevTools %s: no answer in %d s" % (method, timeout))
                self._ready.wait(left)
            answer = self._answers.pop(request["id"], None) or self._answers[None]
        if "error" in answer:
            raise RuntimeError("DevTools %s: %s" % (method, answer["error"].get("message")))
        return answer.get("result", {})

    def close(self):
        if self._command_write is None:
            return
        try:
            self.call("Browser.close", timeout=3)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.process.wait(3)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                self.process.wait(3)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._command_write is not None:
            os.close(self._command_write)
            self._command_write = None
        self._log.close()


class BlankPage(http.server.BaseHTTPRequestHandler):
    """An empty page on http://127.0.0.1 (a secure context, unlike about:blank, so the page may
    call getUserMedia; with that permission Chromium gathers on every interface, loopback too)."""

    def do_GET(self):
        body = b"<!doctype html><title>nacho viewer</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Viewer:
    """One Chromium page viewing one video producer of the test server."""

    def __init__(self, chromium, out_dir, control=None):
        self.control = control
        self.closed = False
        self.page_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), BlankPage)
        threading.Thread(target=self.page_server.serve_forever, daemon=True).start()
        self.producer = None
        self.error = None
        self.ports = []
        self.devtools = DevTools(chromium, os.path.join(out_dir, "chromium.log"))
        try:
            url = "http://127.0.0.1:%d/" % self.page_server.server_address[1]
            target = self.devtools.call("Target.createTarget", {"url": url})["targetId"]
            self.session = self.devtools.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            # the page has loaded when its URL is ours (createTarget returns before)
            deadline = time.monotonic() + 15
            while self.evaluate("location.href") != url:
                if time.monotonic() > deadline:
                    raise TimeoutError("Chromium did not load %s" % url)
                time.sleep(0.1)
            self.evaluate(PAGE_SCRIPT)
        except BaseException:
            self.close()
            raise

    def evaluate(self, expression, timeout=20):
        result = self.devtools.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True},
                                    session=self.session, timeout=timeout)
        if "exceptionDetails" in result:
            raise RuntimeError("page: %s" % json.dumps(result["exceptionDetails"])[:500])
        return result.get("result", {}).get("value")

    def video_producer(self):
        """The id of a client's (not a virtual member's) video producer, once there is one."""
        with urllib.request.urlopen(self.control + "/state", timeout=10) as response:
            state = json.loads(response.read())
        for producers in state.get("producers", {}).values():
            for producer in producers:
                if producer["kind"] == "video" and not producer["virtual"]:
                    return producer["id"]
        return None

    def view(self, producer_id):
        offer = self.evaluate("viewer.offer()")
        # only loopback candidates go to the server (outside a private namespace Chromium also
        # gathers the machine's other addresses)
        offer["sdp"] = "".join(line for line in offer["sdp"].splitlines(True)
                               if not line.startswith("a=candidate:") or " 127.0.0.1 " in line)
        # the UDP ports Chromium receives on (a shaped downlink matches them)
        self.ports = sorted({int(line.split()[5]) for line in offer["sdp"].splitlines()
                             if line.startswith("a=candidate:") and line.split()[2].lower() == "udp"})
        request = urllib.request.Request(self.control + "/view?producer=" + producer_id, data=json.dumps(offer).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=20) as response:
            answer = json.loads(response.read())
        self.evaluate("viewer.answer(%s)" % json.dumps(answer))
        self.producer = producer_id

    def start_when_producing(self, control=None):
        """Views the first client video producer of the server at `control`; False while there
        is none yet."""
        self.control = control or self.control
        if self.producer is not None or self.error is not None:
            return True
        try:
            producer = self.video_producer()
            if producer is None:
                return False
            self.view(producer)
        except (OSError, RuntimeError, TimeoutError) as error:
            self.error = str(error)
        return True

    def stats(self):
        if self.error is not None:
            return {"error": self.error}
        try:
            return self.evaluate("viewer.stats()", timeout=10)
        except (RuntimeError, TimeoutError) as error:
            return {"error": str(error)}

    def close(self):
        if self.closed:
            return
        self.closed = True
        self.devtools.close()
        self.page_server.shutdown()


def main():
    control = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10
    out = os.environ.get("TMPDIR", "/tmp")
    viewer = Viewer(os.environ.get("CHROMIUM", "chromium"), out, control)
    try:
        while not viewer.start_when_producing():
            time.sleep(0.5)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(1)
            print(json.dumps(viewer.stats()), flush=True)
    finally:
        viewer.close()


if __name__ == "__main__":
    main()
