#pragma once
#include <png.h>
#include <stdlib.h>
#include <string.h>

// libpng reports errors with longjmp, which Swift cannot catch. These helpers keep the setjmp on the C side
// and return an error message (NULL on success).

typedef struct { const unsigned char *data; size_t size, pos; } kp2d_png_source;
typedef struct { unsigned char *data; size_t size, capacity; int failed; } kp2d_png_sink;

static void kp2d_png_on_error(png_structp png, png_const_charp msg) {
    char *buf = (char *)png_get_error_ptr(png);
    if (buf) { strncpy(buf, msg ? msg : "libpng error", 255); buf[255] = 0; }
    png_longjmp(png, 1);
}
static void kp2d_png_on_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static void kp2d_png_read_mem(png_structp png, png_bytep out, png_size_t n) {
    kp2d_png_source *s = (kp2d_png_source *)png_get_io_ptr(png);
    if (s->pos + n > s->size) png_error(png, "truncated data (file ends early)");
    memcpy(out, s->data + s->pos, n);
    s->pos += n;
}

/// Decode a PNG held in memory. Palette and low-bit gray are expanded to 8 bits, alpha is stripped,
/// 16-bit samples are kept (big-endian in the output). On success *pixels is malloc'ed (free() it),
/// rows are tightly packed: width * channels * bytesPerSample bytes each.
static inline const char *kp2d_png_decode(const unsigned char *data, size_t size, unsigned char **pixels,
                                          int *width, int *height, int *channels, int *bytesPerSample,
                                          char *err /* 256 bytes */) {
    *pixels = NULL;
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) { strcpy(err, "not a PNG file (bad signature)"); return err; }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, err, kp2d_png_on_error, kp2d_png_on_warning);
    if (!png) { strcpy(err, "libpng: out of memory"); return err; }
    png_infop info = png_create_info_struct(png);
    if (!info) { png_destroy_read_struct(&png, NULL, NULL); strcpy(err, "libpng: out of memory"); return err; }
    kp2d_png_source src = { data, size, 0 };
    unsigned char *volatile buffer = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(buffer); free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return err;
    }
    png_set_read_fn(png, &src, kp2d_png_read_mem);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int colorType = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    if (colorType == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (colorType == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (colorType & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t rowBytes = png_get_rowbytes(png, info);
    int ch = png_get_channels(png, info), bd = png_get_bit_depth(png, info);
    if (w == 0 || h == 0 || (double)rowBytes * (double)h > 1.0e9) png_error(png, "image too large or empty");
    buffer = (unsigned char *)malloc(rowBytes * h);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * h);
    if (!buffer || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) rows[y] = buffer + y * rowBytes;
    png_read_image(png, rows);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    *pixels = buffer; *width = (int)w; *height = (int)h; *channels = ch; *bytesPerSample = bd == 16 ? 2 : 1;
    return NULL;
}

static void kp2d_png_write_mem(png_structp png, png_bytep in, png_size_t n) {
    kp2d_png_sink *s = (kp2d_png_sink *)png_get_io_ptr(png);
    if (s->size + n > s->capacity) {
        size_t cap = s->capacity ? s->capacity : 65536;
        while (cap < s->size + n) cap *= 2;
        unsigned char *d = (unsigned char *)realloc(s->data, cap);
        if (!d) png_error(png, "out of memory");
        s->data = d; s->capacity = cap;
    }
    memcpy(s->data + s->size, in, n);
    s->size += n;
}
static void kp2d_png_flush_mem(png_structp png) { (void)png; }

/// Encode 8-bit gray (channels 1) or RGB (channels 3) interleaved pixels to PNG in memory, zlib level `level`
/// (0-9). On success *out is malloc'ed (free() it) and *outSize its length.
static inline const char *kp2d_png_encode_level(const unsigned char *pixels, int width, int height, int channels, int level,
                                                unsigned char **out, size_t *outSize, char *err /* 256 bytes */) {
    *out = NULL; *outSize = 0;
    if (channels != 1 && channels != 3) { strcpy(err, "PNG writer supports 1 or 3 channels"); return err; }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, err, kp2d_png_on_error, kp2d_png_on_warning);
    if (!png) { strcpy(err, "libpng: out of memory"); return err; }
    png_infop info = png_create_info_struct(png);
    if (!info) { png_destroy_write_struct(&png, NULL); strcpy(err, "libpng: out of memory"); return err; }
    kp2d_png_sink sink = { NULL, 0, 0, 0 };
    if (setjmp(png_jmpbuf(png))) {
        free(sink.data);
        png_destroy_write_struct(&png, &info);
        return err;
    }
    png_set_write_fn(png, &sink, kp2d_png_write_mem, kp2d_png_flush_mem);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, level < 0 ? 0 : (level > 9 ? 9 : level));
    png_write_info(png, info);
    for (int y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(pixels + (size_t)y * width * channels));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    *out = sink.data; *outSize = sink.size;
    return NULL;
}

/// As kp2d_png_encode_level at level 9 (the smallest files).
static inline const char *kp2d_png_encode(const unsigned char *pixels, int width, int height, int channels,
                                          unsigned char **out, size_t *outSize, char *err /* 256 bytes */) {
    return kp2d_png_encode_level(pixels, width, height, channels, 9, out, outSize, err);
}
