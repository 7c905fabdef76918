#!/usr/bin/python3
"""A real RTSP server on loopback for the reconnection test (run with the SYSTEM python3: it needs python3-gi
and gir1.2-gst-rtsp-server-1.0 from Debian, which the project's venv does not have).

Serves an MP4 (H.264 or H.265) file at rtsp://127.0.0.1:PORT/street, looping it by seeking back to 0 at
its end. Usage: /usr/bin/python3 tests/video/rtsp_server.py PORT CLIP [h264|h265]
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> None:
    port, clip = sys.argv[1], sys.argv[2]
    codec = sys.argv[3] if len(sys.argv) > 3 else "h264"
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f'( filesrc location="{clip}" ! qtdemux ! {codec}parse name=parse '
        f"! rtp{codec}pay name=pay0 pt=96 config-interval=1 )"
    )
    factory.set_shared(True)

    def on_configure(_factory, media):  # loop: at the end of the file, seek back to the start
        pipeline = media.get_element()

        def probe(pad, info):
            event = info.get_event()
            if event.type == Gst.EventType.EOS:
                GLib.idle_add(lambda: pipeline.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH, 0) and False)
                return Gst.PadProbeReturn.DROP
            return Gst.PadProbeReturn.OK

        parse = pipeline.get_by_name("parse")
        parse.get_static_pad("src").add_probe(Gst.PadProbeType.EVENT_DOWNSTREAM, probe)

    factory.connect("media-configure", on_configure)
    server.get_mount_points().add_factory("/street", factory)
    server.attach(None)
    print(f"rtsp://127.0.0.1:{port}/street", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
