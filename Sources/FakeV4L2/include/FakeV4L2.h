#pragma once
/* A test camera for LD_PRELOAD in front of libv4l2: see fake_v4l2.c. No public API. */
int fake_v4l2_frames_served(void);
