#pragma once
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>

// libjpeg reports errors with longjmp, which Swift cannot catch. These helpers keep the setjmp on the C side
// and return an error message (NULL on success).

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char *message;
} kp2d_jpeg_error;

static void kp2d_jpeg_on_error(j_common_ptr cinfo) {
    kp2d_jpeg_error *e = (kp2d_jpeg_error *)cinfo->err;
    char buf[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, buf);
    strncpy(e->message, buf, 255); e->message[255] = 0;
    longjmp(e->jump, 1);
}
// Silence libjpeg messages but count warnings (level -1), which is how a truncated file shows up.
static void kp2d_jpeg_on_message(j_common_ptr cinfo, int level) { if (level < 0) cinfo->err->num_warnings++; }

/// Decode a JPEG held in memory to 8-bit gray (1 channel) or RGB (3 channels), rows tightly packed.
/// On success *pixels is malloc'ed (free() it). A truncated file is an error (libjpeg's warning
/// "premature end of data" is turned into a failure).
static inline const char *kp2d_jpeg_decode(const unsigned char *data, size_t size, unsigned char **pixels,
                                           int *width, int *height, int *channels, char *err /* 256 bytes */) {
    *pixels = NULL;
    if (size < 3 || data[0] != 0xFF || data[1] != 0xD8) { strcpy(err, "not a JPEG file (bad signature)"); return err; }
    struct jpeg_decompress_struct cinfo;
    kp2d_jpeg_error jerr;
    unsigned char *volatile buffer = NULL;
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = kp2d_jpeg_on_error;
    jerr.pub.emit_message = kp2d_jpeg_on_message;
    jerr.message = err;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(buffer);
        return err;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        strcpy(err, "CMYK JPEG is not supported; convert it to RGB");
        jpeg_destroy_decompress(&cinfo);
        return err;
    }
    // The header's size is checked before anything is decompressed (a few bytes can claim 65500x65500), with
    // the limit libpng gets in CPNG: at most 1e9 bytes of decoded pixels.
    if ((double)cinfo.image_width * (double)cinfo.image_height * (cinfo.num_components == 1 ? 1.0 : 3.0) > 1.0e9) {
        snprintf(err, 256, "image too large: the header says %ux%u pixels (more than 1e9 bytes decoded); downscale it first",
                 (unsigned)cinfo.image_width, (unsigned)cinfo.image_height);
        jpeg_destroy_decompress(&cinfo);
        return err;
    }
    cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height, ch = cinfo.output_components;
    size_t stride = (size_t)w * ch;
    buffer = (unsigned char *)malloc(stride * h);
    if (!buffer) { strcpy(err, "out of memory"); jpeg_destroy_decompress(&cinfo); return err; }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = buffer + stride * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    long warnings = jerr.pub.num_warnings;
    jpeg_finish_decompress(&cinfo);
    warnings = jerr.pub.num_warnings > warnings ? jerr.pub.num_warnings : warnings;
    jpeg_destroy_decompress(&cinfo);
    if (warnings > 0) {
        free(buffer);
        strcpy(err, "corrupt or truncated JPEG data");
        return err;
    }
    *pixels = buffer; *width = w; *height = h; *channels = ch;
    return NULL;
}

/// Encode 8-bit gray (1) or RGB (3) interleaved pixels as a baseline JPEG of the given quality (1..100).
/// On success *out is malloc'ed (free() it).
static inline const char *kp2d_jpeg_encode(const unsigned char *pixels, int width, int height, int channels, int quality,
                                           unsigned char **out, size_t *outSize, char *err /* 256 bytes */) {
    *out = NULL; *outSize = 0;
    struct jpeg_compress_struct cinfo;
    kp2d_jpeg_error jerr;
    unsigned char *mem = NULL;
    unsigned long memSize = 0;
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = kp2d_jpeg_on_error;
    jerr.pub.emit_message = kp2d_jpeg_on_message;
    jerr.message = err;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(mem);
        return err;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &mem, &memSize);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    size_t stride = (size_t)width * channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + stride * cinfo.next_scanline);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = mem; *outSize = memSize;
    return NULL;
}
