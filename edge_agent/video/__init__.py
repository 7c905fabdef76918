"""Video: camera sources, motion gating, zones, tracking, road-occupation incidents, replay."""
