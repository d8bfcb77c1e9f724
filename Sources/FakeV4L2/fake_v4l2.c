/*
 * A camera that is not there: LD_PRELOAD this library in front of libv4l2 and every
 * v4l2_open/ioctl/mmap call of the process talks to it. It behaves like a simple UVC webcam
 * that only does YUYV: it answers QUERYCAP, adjusts S_FMT to YUYV at the requested size (up
 * to 1280x720), grants S_PARM frame rates, hands out mmap buffers, and DQBUF blocks until the
 * next frame is due, then fills it with a moving pattern whose top row carries the frame
 * counter as a 24-bit barcode. Lets nacho's real V4L2 code (negotiation, streaming,
 * conversion) run on machines without a camera. Test use only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/videodev2.h>

#define BUFFERS 4

static int fake_fd = -1;
static unsigned width = 640, height = 480, fps = 30;
static void *buffers[BUFFERS];
static size_t buffer_size;
static int queued[BUFFERS];
static int streaming;
static unsigned long frame_counter;
static struct timespec start_time;

int v4l2_open(const char *file, int oflag, ...) {
    (void)oflag;
    if (strstr(file, "missing") != NULL) { errno = ENOENT; return -1; }
    fake_fd = open("/dev/null", O_RDWR);
    return fake_fd;
}

int v4l2_close(int fd) {
    if (fd == fake_fd) fake_fd = -1;
    return close(fd);
}

static void fill(uint8_t *yuyv) {
    unsigned block = width / 24 < 4 ? 4 : width / 24;
    for (unsigned row = 0; row < height; row++) {
        uint8_t *line = yuyv + row * width * 2;
        for (unsigned x = 0; x < width; x++) {
            uint8_t y = (uint8_t)((x + row / 2 + frame_counter * 4) & 0xff) / 2 + 40;
            if (row < block) {
                unsigned bit = x / block;
                y = bit < 24 && ((frame_counter >> (23 - bit)) & 1) ? 235 : 16;
            }
            line[2 * x] = y;
            line[2 * x + 1] = (x & 1) ? 160 : 96;  /* V on odd, U on even samples */
        }
    }
}

static void wait_for_next_frame(void) {
    struct timespec due = start_time;
    double offset = (double)frame_counter / fps;
    due.tv_sec += (time_t)offset;
    due.tv_nsec += (long)((offset - (double)(time_t)offset) * 1e9);
    if (due.tv_nsec >= 1000000000L) { due.tv_sec++; due.tv_nsec -= 1000000000L; }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR) {}
}

int v4l2_ioctl(int fd, unsigned long int request, ...) {
    va_list args;
    va_start(args, request);
    void *arg = va_arg(args, void *);
    va_end(args);
    if (fd != fake_fd) { errno = ENOTTY; return -1; }
    switch (request) {
    case VIDIOC_QUERYCAP: {
        struct v4l2_capability *cap = arg;
        memset(cap, 0, sizeof *cap);
        strcpy((char *)cap->driver, "nacho-fake");
        strcpy((char *)cap->card, "nacho test camera");
        cap->capabilities = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING | V4L2_CAP_DEVICE_CAPS;
        cap->device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
        return 0;
    }
    case VIDIOC_S_FMT: {
        struct v4l2_format *format = arg;
        if (format->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || streaming) { errno = EINVAL; return -1; }
        width = format->fmt.pix.width > 1280 ? 1280 : (format->fmt.pix.width & ~1u);
        height = format->fmt.pix.height > 720 ? 720 : (format->fmt.pix.height & ~1u);
        if (width < 16) width = 16;
        if (height < 16) height = 16;
        format->fmt.pix.width = width;
        format->fmt.pix.height = height;
        format->fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;  /* the only format this camera has */
        format->fmt.pix.bytesperline = width * 2;
        format->fmt.pix.sizeimage = width * height * 2;
        format->fmt.pix.field = V4L2_FIELD_NONE;
        return 0;
    }
    case VIDIOC_S_PARM: {
        struct v4l2_streamparm *parm = arg;
        struct v4l2_fract *t = &parm->parm.capture.timeperframe;
        if (t->numerator > 0 && t->denominator > 0) fps = t->denominator / t->numerator;
        if (fps < 1) fps = 1;
        if (fps > 30) fps = 30;  /* like most webcams */
        t->numerator = 1;
        t->denominator = fps;
        return 0;
    }
    case VIDIOC_REQBUFS: {
        struct v4l2_requestbuffers *req = arg;
        if (req->memory != V4L2_MEMORY_MMAP) { errno = EINVAL; return -1; }
        req->count = BUFFERS;
        buffer_size = (size_t)width * height * 2;
        return 0;
    }
    case VIDIOC_QUERYBUF: {
        struct v4l2_buffer *buf = arg;
        if (buf->index >= BUFFERS) { errno = EINVAL; return -1; }
        buf->length = (unsigned)buffer_size;
        buf->m.offset = buf->index * 4096 * 1024;
        return 0;
    }
    case VIDIOC_QBUF: {
        struct v4l2_buffer *buf = arg;
        if (buf->index >= BUFFERS) { errno = EINVAL; return -1; }
        queued[buf->index] = 1;
        return 0;
    }
    case VIDIOC_DQBUF: {
        struct v4l2_buffer *buf = arg;
        if (!streaming) { errno = EINVAL; return -1; }
        for (unsigned i = 0; i < BUFFERS; i++) {
            unsigned index = (unsigned)((frame_counter + i) % BUFFERS);
            if (!queued[index] || buffers[index] == NULL) continue;
            wait_for_next_frame();
            fill(buffers[index]);
            queued[index] = 0;
            buf->index = index;
            buf->bytesused = (unsigned)buffer_size;
            buf->sequence = (unsigned)frame_counter;
            frame_counter++;
            return 0;
        }
        errno = EAGAIN;
        return -1;
    }
    case VIDIOC_STREAMON:
        streaming = 1;
        clock_gettime(CLOCK_MONOTONIC, &start_time);
        return 0;
    case VIDIOC_STREAMOFF:
        streaming = 0;
        return 0;
    default:
        errno = EINVAL;
        return -1;
    }
}

void *v4l2_mmap(void *start, size_t length, int prot, int flags, int fd, int64_t offset) {
    (void)start; (void)prot; (void)flags;
    if (fd != fake_fd) return MAP_FAILED;
    unsigned index = (unsigned)(offset / (4096 * 1024));
    if (index >= BUFFERS) return MAP_FAILED;
    buffers[index] = calloc(1, length);
    return buffers[index] ? buffers[index] : MAP_FAILED;
}

int v4l2_munmap(void *start, size_t length) {
    (void)length;
    for (unsigned i = 0; i < BUFFERS; i++) {
        if (buffers[i] == start) { free(buffers[i]); buffers[i] = NULL; }
    }
    return 0;
}
