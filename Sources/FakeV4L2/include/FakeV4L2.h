#pragma once
/* A test camera for LD_PRELOAD in front of libv4l2: see fake_v4l2.c. It has no API of its
   own: it defines libv4l2's v4l2_open, v4l2_ioctl, v4l2_mmap, v4l2_munmap and v4l2_close. */
