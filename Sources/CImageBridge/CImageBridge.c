// libpng and libjpeg report errors by longjmp. Each public function below owns its own
// setjmp, so no longjmp ever crosses into Swift. Everything a function allocates lives in
// a context struct whose address the library also holds (so its fields are in memory, not
// registers, when a longjmp lands) and is freed on the error path as well as on success.
#include "CImageBridge.h"

#include <png.h>
#include <jpeglib.h>
#include <jerror.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

static _Atomic size_t max_decoded_bytes = (size_t)512 << 20;
void cib_set_max_decoded_bytes(size_t bytes) { max_decoded_bytes = bytes; }
size_t cib_max_decoded_bytes(void) { return max_decoded_bytes; }

/// Bytes a decode of width x height needs: `raw` bytes per pixel in the decoder's buffer
/// and `channels` float32 samples per pixel in the tensor; SIZE_MAX on overflow.
static size_t decoded_bytes(size_t width, size_t height, size_t raw, size_t channels) {
    size_t pixels = width * height;
    if (height && pixels / height != width) return SIZE_MAX;
    size_t per = raw + channels * sizeof(float);
    if (pixels && per > SIZE_MAX / pixels) return SIZE_MAX;
    return pixels * per;
}

static void describe_limit(char *m, size_t cap, size_t width, size_t height, size_t need) {
    snprintf(m, cap, "decoding %zux%zu pixels needs %zu MB, more than the image memory limit of %zu MB",
             width, height, need >> 20, max_decoded_bytes >> 20);
}

void cib_free(void *p) { free(p); }

static void set_msg(char *msg, size_t cap, const char *fmt, ...) {
    if (!msg || cap == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
}

static int little_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

// MARK: - PNG

typedef struct {
    char *msg;
    size_t msg_cap;
    int code;               // first error wins
    // reading
    const uint8_t *data;
    size_t size;
    size_t pos;
    uint8_t *pixels;
    png_bytep *rows;
    // writing to memory
    uint8_t *buf;
    size_t len;
    size_t cap;
} png_ctx;

static void png_fail(png_structp png, png_ctx *ctx, int code, const char *message) {
    if (ctx->code == 0) {
        ctx->code = code;
        set_msg(ctx->msg, ctx->msg_cap, "%s", message);
    }
    png_longjmp(png, 1);
}

static void png_error_fn(png_structp png, png_const_charp message) {
    png_ctx *ctx = (png_ctx *)png_get_error_ptr(png);
    png_fail(png, ctx, CIB_ERR_CORRUPT, message ? message : "libpng error");
}

static void png_warning_fn(png_structp png, png_const_charp message) {
    (void)png; (void)message; // ancillary-chunk problems: the image itself is fine
}

static void png_mem_read(png_structp png, png_bytep dst, size_t len) {
    png_ctx *ctx = (png_ctx *)png_get_io_ptr(png);
    if (len > ctx->size - ctx->pos) {
        png_fail(png, ctx, CIB_ERR_TRUNCATED, "truncated PNG data");
    }
    memcpy(dst, ctx->data + ctx->pos, len);
    ctx->pos += len;
}

int cib_png_decode(const uint8_t *data, size_t size, cib_image *out, char *msg, size_t msg_cap) {
    if (!out) return CIB_ERR_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (msg && msg_cap) msg[0] = 0;
    if (!data || size < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0) {
        set_msg(msg, msg_cap, size < 8 ? "truncated PNG data" : "not a PNG file");
        return size < 8 ? CIB_ERR_TRUNCATED : CIB_ERR_CORRUPT;
    }
    png_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.msg = msg; ctx.msg_cap = msg_cap; ctx.data = data; ctx.size = size;

    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_error_fn, png_warning_fn);
    if (!png) { set_msg(msg, msg_cap, "out of memory"); return CIB_ERR_NOMEM; }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        set_msg(msg, msg_cap, "out of memory");
        return CIB_ERR_NOMEM;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(ctx.rows);
        free(ctx.pixels);
        return ctx.code ? ctx.code : CIB_ERR_CORRUPT;
    }
    png_set_read_fn(png, &ctx, png_mem_read);
    png_set_user_limits(png, 1u << 20, 1u << 20);

    png_read_info(png, info);
    png_uint_32 width = 0, height = 0;
    int depth = 0, ctype = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &depth, &ctype, &interlace, NULL, NULL);
    if ((size_t)width * (size_t)height > CIB_MAX_PIXELS) {
        char m[96];
        snprintf(m, sizeof m, "image of %ux%u pixels is too large", (unsigned)width, (unsigned)height);
        png_fail(png, &ctx, CIB_ERR_TOO_LARGE, m);
    }
    if (ctype == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (depth == 16 && little_endian()) png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int channels = png_get_channels(png, info);
    int out_depth = png_get_bit_depth(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (channels < 1 || channels > 4 || (out_depth != 8 && out_depth != 16) ||
        rowbytes != (size_t)width * (size_t)channels * (size_t)(out_depth / 8)) {
        png_fail(png, &ctx, CIB_ERR_CORRUPT, "unsupported PNG layout");
    }
    size_t need = decoded_bytes(width, height, (size_t)channels * (size_t)(out_depth / 8), (size_t)channels);
    if (need > max_decoded_bytes) {
        char m[160];
        describe_limit(m, sizeof m, width, height, need);
        png_fail(png, &ctx, CIB_ERR_TOO_LARGE, m);
    }
    ctx.pixels = (uint8_t *)malloc(rowbytes * height);
    ctx.rows = (png_bytep *)malloc(sizeof(png_bytep) * height);
    if (!ctx.pixels || !ctx.rows) png_fail(png, &ctx, CIB_ERR_NOMEM, "out of memory");
    for (png_uint_32 y = 0; y < height; y++) ctx.rows[y] = ctx.pixels + (size_t)y * rowbytes;
    png_read_image(png, ctx.rows);
    png_read_end(png, NULL); // checks the remaining chunks' CRCs and that IEND is there

    png_destroy_read_struct(&png, &info, NULL);
    free(ctx.rows);
    out->width = (int)width;
    out->height = (int)height;
    out->channels = channels;
    out->bit_depth = out_depth;
    out->pixels = ctx.pixels;
    return CIB_OK;
}

static void png_mem_write(png_structp png, png_bytep src, size_t len) {
    png_ctx *ctx = (png_ctx *)png_get_io_ptr(png);
    if (len > ctx->cap - ctx->len) {
        size_t want = ctx->len + len;
        size_t ncap = ctx->cap ? ctx->cap : 4096;
        while (ncap < want) ncap *= 2;
        uint8_t *nbuf = (uint8_t *)realloc(ctx->buf, ncap);
        if (!nbuf) png_fail(png, ctx, CIB_ERR_NOMEM, "out of memory");
        ctx->buf = nbuf;
        ctx->cap = ncap;
    }
    memcpy(ctx->buf + ctx->len, src, len);
    ctx->len += len;
}

static void png_mem_flush(png_structp png) { (void)png; }

static int png_encode_common(const void *pixels, int width, int height, int channels, int bit_depth,
                             int interlace, FILE *file, uint8_t **out, size_t *out_size,
                             char *msg, size_t msg_cap) {
    if (msg && msg_cap) msg[0] = 0;
    if (out) *out = NULL;
    if (out_size) *out_size = 0;
    if (!pixels || width < 1 || height < 1 || width > 0x7fffffff / 8) {
        set_msg(msg, msg_cap, "invalid image size %dx%d", width, height);
        return CIB_ERR_ARGUMENT;
    }
    if (channels < 1 || channels > 4) {
        set_msg(msg, msg_cap, "PNG needs 1 to 4 channels, got %d", channels);
        return CIB_ERR_ARGUMENT;
    }
    if (bit_depth != 8 && bit_depth != 16) {
        set_msg(msg, msg_cap, "PNG bit depth must be 8 or 16, got %d", bit_depth);
        return CIB_ERR_ARGUMENT;
    }
    static const int ctypes[4] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                  PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    png_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.msg = msg; ctx.msg_cap = msg_cap;

    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, png_error_fn, png_warning_fn);
    if (!png) { set_msg(msg, msg_cap, "out of memory"); return CIB_ERR_NOMEM; }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        set_msg(msg, msg_cap, "out of memory");
        return CIB_ERR_NOMEM;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(ctx.rows);
        free(ctx.buf);
        if (file && ctx.code == CIB_ERR_CORRUPT) return CIB_ERR_IO; // libpng's "Write Error"
        return ctx.code ? ctx.code : CIB_ERR_CORRUPT;
    }
    if (file) png_init_io(png, file);
    else png_set_write_fn(png, &ctx, png_mem_write, png_mem_flush);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, bit_depth, ctypes[channels - 1],
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    if (bit_depth == 16 && little_endian()) png_set_swap(png);

    size_t rowbytes = (size_t)width * (size_t)channels * (size_t)(bit_depth / 8);
    ctx.rows = (png_bytep *)malloc(sizeof(png_bytep) * (size_t)height);
    if (!ctx.rows) png_fail(png, &ctx, CIB_ERR_NOMEM, "out of memory");
    for (int y = 0; y < height; y++) ctx.rows[y] = (png_bytep)pixels + (size_t)y * rowbytes;
    png_write_image(png, ctx.rows);
    png_write_end(png, NULL);

    png_destroy_write_struct(&png, &info);
    free(ctx.rows);
    if (file) {
        if (fflush(file) != 0 || ferror(file)) {
            set_msg(msg, msg_cap, "write error");
            return CIB_ERR_IO;
        }
    } else {
        *out = ctx.buf;
        *out_size = ctx.len;
    }
    return CIB_OK;
}

int cib_png_encode(const void *pixels, int width, int height, int channels, int bit_depth,
                   int interlace, uint8_t **out, size_t *out_size, char *msg, size_t msg_cap) {
    if (!out || !out_size) { set_msg(msg, msg_cap, "no output buffer"); return CIB_ERR_ARGUMENT; }
    return png_encode_common(pixels, width, height, channels, bit_depth, interlace, NULL,
                             out, out_size, msg, msg_cap);
}

int cib_png_encode_file(const void *pixels, int width, int height, int channels, int bit_depth,
                        int interlace, FILE *file, char *msg, size_t msg_cap) {
    if (!file) { set_msg(msg, msg_cap, "no output file"); return CIB_ERR_ARGUMENT; }
    return png_encode_common(pixels, width, height, channels, bit_depth, interlace, file,
                             NULL, NULL, msg, msg_cap);
}

// MARK: - JPEG

typedef struct {
    struct jpeg_error_mgr pub; // first member: libjpeg sees only this
    jmp_buf jump;
    char *msg;
    size_t msg_cap;
    int code;
    char *warnings;
    size_t warnings_cap;
    // owned buffers (freed on every path)
    uint8_t *pixels;
    uint8_t *row;
    unsigned char *dest;
    unsigned long dest_size;
} jpeg_ctx;

typedef struct {
    struct jpeg_progress_mgr pub;
    jpeg_ctx *ctx;
} jpeg_progress_ctx;

/// A progressive file can hold thousands of tiny scans, each a full pass over the
/// coefficients; libjpeg-turbo's own tools cap them. So do we.
#define CIB_JPEG_MAX_SCANS 500

static void jpeg_fail(j_common_ptr cinfo, int code, const char *message) {
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    if (ctx->code == 0) {
        ctx->code = code;
        set_msg(ctx->msg, ctx->msg_cap, "%s", message);
    }
    longjmp(ctx->jump, 1);
}

static void jpeg_error_exit_fn(j_common_ptr cinfo) {
    char buffer[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, buffer);
    jpeg_fail(cinfo, CIB_ERR_CORRUPT, buffer);
}

static void jpeg_output_message_fn(j_common_ptr cinfo) { (void)cinfo; }

static void jpeg_emit_message_fn(j_common_ptr cinfo, int level) {
    if (level >= 0) return; // trace messages
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    int code = cinfo->err->msg_code;
    // A truncated stream makes the source manager insert a fake EOI (JWRN_JPEG_EOF) and the
    // entropy decoder pad with zeros (JWRN_HIT_MARKER): the result would be a partly grey
    // image. A bad Huffman code means the coefficients are garbage. Both are errors here.
    if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER) {
        jpeg_fail(cinfo, CIB_ERR_TRUNCATED, "truncated JPEG data");
    }
    if (code == JWRN_HUFF_BAD_CODE) {
        jpeg_fail(cinfo, CIB_ERR_CORRUPT, "corrupt JPEG data (bad Huffman code)");
    }
    cinfo->err->num_warnings++;
    if (ctx->warnings && ctx->warnings_cap > 1) {
        char buffer[JMSG_LENGTH_MAX];
        (*cinfo->err->format_message)(cinfo, buffer);
        size_t used = strlen(ctx->warnings);
        if (used + 3 < ctx->warnings_cap) {
            snprintf(ctx->warnings + used, ctx->warnings_cap - used, "%s%s", used ? "; " : "", buffer);
        }
    }
}

static void jpeg_progress_fn(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) return;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > CIB_JPEG_MAX_SCANS) {
        jpeg_fail(cinfo, CIB_ERR_CORRUPT, "JPEG has too many scans");
    }
}

static void jpeg_init_errors(jpeg_ctx *ctx, char *msg, size_t msg_cap) {
    memset(ctx, 0, sizeof *ctx);
    jpeg_std_error(&ctx->pub);
    ctx->pub.error_exit = jpeg_error_exit_fn;
    ctx->pub.output_message = jpeg_output_message_fn;
    ctx->pub.emit_message = jpeg_emit_message_fn;
    ctx->msg = msg;
    ctx->msg_cap = msg_cap;
}

int cib_jpeg_decode(const uint8_t *data, size_t size, int cmyk_to_rgb, int grayscale, cib_image *out,
                    char *msg, size_t msg_cap, char *warnings, size_t warnings_cap) {
    if (!out) return CIB_ERR_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (msg && msg_cap) msg[0] = 0;
    if (warnings && warnings_cap) warnings[0] = 0;
    if (!data || size < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF) {
        set_msg(msg, msg_cap, size < 3 ? "truncated JPEG data" : "not a JPEG file");
        return size < 3 ? CIB_ERR_TRUNCATED : CIB_ERR_CORRUPT;
    }
    struct jpeg_decompress_struct cinfo;
    jpeg_ctx ctx;
    jpeg_progress_ctx progress;
    jpeg_init_errors(&ctx, msg, msg_cap);
    ctx.warnings = warnings;
    ctx.warnings_cap = warnings_cap;
    memset(&progress, 0, sizeof progress);
    progress.pub.progress_monitor = jpeg_progress_fn;
    progress.ctx = &ctx;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = &ctx.pub;

    if (setjmp(ctx.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(ctx.row);
        free(ctx.pixels);
        return ctx.code ? ctx.code : CIB_ERR_CORRUPT;
    }
    jpeg_create_decompress(&cinfo);
    cinfo.progress = &progress.pub;
    jpeg_mem_src(&cinfo, (const unsigned char *)data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);

    size_t width = cinfo.image_width, height = cinfo.image_height;
    if (width * height > CIB_MAX_PIXELS) {
        char m[96];
        snprintf(m, sizeof m, "image of %zux%zu pixels is too large", width, height);
        jpeg_fail((j_common_ptr)&cinfo, CIB_ERR_TOO_LARGE, m);
    }
    int channels = 3, cmyk = 0;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
        cinfo.out_color_space = JCS_GRAYSCALE;
        channels = 1;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        if (!cmyk_to_rgb) jpeg_fail((j_common_ptr)&cinfo, CIB_ERR_UNSUPPORTED, "CMYK JPEG is not supported");
        cinfo.out_color_space = JCS_CMYK;
        cmyk = 1;
        break;
    default:
        cinfo.out_color_space = grayscale ? JCS_GRAYSCALE : JCS_RGB;
        if (grayscale) channels = 1;
        break;
    }
    if (cmyk && grayscale) channels = 1;
    size_t need = decoded_bytes(width, height, (size_t)(cmyk ? 4 : channels) + (size_t)cinfo.num_components * 2,
                                (size_t)channels);
    if (need > max_decoded_bytes) {
        char m[160];
        describe_limit(m, sizeof m, width, height, need);
        jpeg_fail((j_common_ptr)&cinfo, CIB_ERR_TOO_LARGE, m);
    }
    // libjpeg's own buffers (a progressive file keeps every coefficient) share the limit.
    cinfo.mem->max_memory_to_use = (long)(max_decoded_bytes > (size_t)LONG_MAX ? LONG_MAX : max_decoded_bytes);
    jpeg_start_decompress(&cinfo);
    if ((int)cinfo.output_components != (cmyk ? 4 : channels) ||
        cinfo.output_width != width || cinfo.output_height != height) {
        jpeg_fail((j_common_ptr)&cinfo, CIB_ERR_CORRUPT, "unexpected JPEG output layout");
    }
    size_t stride = width * (size_t)channels;
    ctx.pixels = (uint8_t *)malloc(stride * height);
    if (cmyk) ctx.row = (uint8_t *)malloc(width * 4);
    if (!ctx.pixels || (cmyk && !ctx.row)) jpeg_fail((j_common_ptr)&cinfo, CIB_ERR_NOMEM, "out of memory");
    // Adobe writes CMYK inverted (0 = full ink); without its marker assume the plain form.
    int inverted = cinfo.saw_Adobe_marker;
    while (cinfo.output_scanline < cinfo.output_height) {
        size_t y = cinfo.output_scanline;
        JSAMPROW row = cmyk ? ctx.row : ctx.pixels + y * stride;
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
            jpeg_fail((j_common_ptr)&cinfo, CIB_ERR_TRUNCATED, "truncated JPEG data");
        }
        if (cmyk) {
            uint8_t *dst = ctx.pixels + y * stride;
            for (size_t x = 0; x < width; x++) {
                unsigned c = ctx.row[4 * x], m = ctx.row[4 * x + 1], yy = ctx.row[4 * x + 2], k = ctx.row[4 * x + 3];
                if (!inverted) { c = 255 - c; m = 255 - m; yy = 255 - yy; k = 255 - k; }
                unsigned r = (c * k + 127) / 255, g = (m * k + 127) / 255, b = (yy * k + 127) / 255;
                if (channels == 1) {
                    dst[x] = (uint8_t)((299 * r + 587 * g + 114 * b + 500) / 1000);
                } else {
                    dst[3 * x] = (uint8_t)r;
                    dst[3 * x + 1] = (uint8_t)g;
                    dst[3 * x + 2] = (uint8_t)b;
                }
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(ctx.row);
    out->width = (int)width;
    out->height = (int)height;
    out->channels = channels;
    out->bit_depth = 8;
    out->pixels = ctx.pixels;
    return CIB_OK;
}

int cib_jpeg_encode(const uint8_t *pixels, int width, int height, int channels, int quality,
                    uint8_t **out, size_t *out_size, char *msg, size_t msg_cap) {
    if (msg && msg_cap) msg[0] = 0;
    if (!out || !out_size) { set_msg(msg, msg_cap, "no output buffer"); return CIB_ERR_ARGUMENT; }
    *out = NULL;
    *out_size = 0;
    if (!pixels || width < 1 || height < 1 || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION) {
        set_msg(msg, msg_cap, "invalid JPEG image size %dx%d (at most %d per side)", width, height, JPEG_MAX_DIMENSION);
        return CIB_ERR_ARGUMENT;
    }
    if (channels != 1 && channels != 3) {
        set_msg(msg, msg_cap, "JPEG needs 1 or 3 channels, got %d", channels);
        return CIB_ERR_ARGUMENT;
    }
    if (quality < 1 || quality > 100) {
        set_msg(msg, msg_cap, "JPEG quality must be 1...100, got %d", quality);
        return CIB_ERR_ARGUMENT;
    }
    struct jpeg_compress_struct cinfo;
    jpeg_ctx ctx;
    jpeg_init_errors(&ctx, msg, msg_cap);
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = &ctx.pub;
    if (setjmp(ctx.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(ctx.dest); // jpeg_mem_dest's buffer is malloc'ed and left to the caller
        return ctx.code ? ctx.code : CIB_ERR_CORRUPT;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &ctx.dest, &ctx.dest_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    if (channels == 3 && quality >= 90) {
        cinfo.comp_info[0].h_samp_factor = 1;
        cinfo.comp_info[0].v_samp_factor = 1;
    }
    jpeg_start_compress(&cinfo, TRUE);
    size_t stride = (size_t)width * (size_t)channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * stride);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = ctx.dest;
    *out_size = ctx.dest_size;
    return CIB_OK;
}
