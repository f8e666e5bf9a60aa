#ifndef CIMAGEBRIDGE_H
#define CIMAGEBRIDGE_H
// C side of the image codecs: libpng and libjpeg report errors by longjmp; every setjmp
// and longjmp stays inside these C functions, which return 0 on success or a negative
// code, and write a NUL-terminated message into the caller's buffer on failure.
// They never exit or abort, and free everything they allocated on every path.
// Pixel buffers they return are malloc'ed; release them with cib_free.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/// Error codes (the message says more).
enum {
    CIB_OK = 0,
    CIB_ERR_CORRUPT = -1,   ///< the codec library rejected the data
    CIB_ERR_TRUNCATED = -2, ///< the data ended early
    CIB_ERR_TOO_LARGE = -3, ///< dimensions beyond the decoder's limits
    CIB_ERR_NOMEM = -4,     ///< an allocation failed
    CIB_ERR_ARGUMENT = -5,  ///< bad arguments (unsupported channel count, bit depth, quality)
    CIB_ERR_IO = -6,        ///< writing a FILE failed
    CIB_ERR_UNSUPPORTED = -7 ///< a valid file of a kind this bridge does not decode
};

/// A decoded image: interleaved samples, row-major, `channels` per pixel.
/// `bit_depth` 8: uint8_t samples; 16: uint16_t samples in native byte order.
typedef struct {
    int width;
    int height;
    int channels;
    int bit_depth;
    void *pixels;
} cib_image;

/// Largest number of pixels a decoder accepts (guards against absurd headers).
#define CIB_MAX_PIXELS ((size_t)1 << 28)

/// Most memory one decode may take (the decoder's pixel buffer plus the float32 tensor the
/// caller makes of it): checked from the header, before anything is allocated, so a small
/// file that declares a huge image is refused. Default 512 MiB; any thread may read it.
void cib_set_max_decoded_bytes(size_t bytes);
size_t cib_max_decoded_bytes(void);

/// Frees a buffer returned by any cib_ function (NULL is fine).
void cib_free(void *p);

/// Decodes a PNG held in memory. Palette images are expanded to RGB, tRNS to an alpha
/// channel, 1/2/4-bit gray to 8 bits; 16-bit files keep 16 bits; interlaced files are
/// de-interlaced. Channels: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
int cib_png_decode(const uint8_t *data, size_t size, cib_image *out, char *msg, size_t msg_cap);

/// Encodes interleaved samples (bit_depth 8: uint8_t, 16: native uint16_t; channels 1..4)
/// as a PNG into a malloc'ed buffer (*out, *out_size). interlace != 0 writes Adam7.
int cib_png_encode(const void *pixels, int width, int height, int channels, int bit_depth,
                   int interlace, uint8_t **out, size_t *out_size, char *msg, size_t msg_cap);

/// The same, written to an open FILE (not closed).
int cib_png_encode_file(const void *pixels, int width, int height, int channels, int bit_depth,
                        int interlace, FILE *file, char *msg, size_t msg_cap);

/// Decodes a JPEG held in memory to 8-bit samples: 1 channel (grayscale) or 3 (RGB).
/// CMYK/YCCK files are converted to RGB when cmyk_to_rgb != 0, rejected otherwise.
/// Truncated or corrupt entropy-coded data is an error, not a grey image.
/// grayscale != 0 asks for one channel: libjpeg's luma (for YCbCr files the Y plane, which
/// skips chroma decoding), BT.601 luma of the converted RGB for CMYK files.
/// `warnings` (may be NULL) receives the other libjpeg warnings, separated by "; ".
int cib_jpeg_decode(const uint8_t *data, size_t size, int cmyk_to_rgb, int grayscale, cib_image *out,
                    char *msg, size_t msg_cap, char *warnings, size_t warnings_cap);

/// Encodes 8-bit interleaved samples (channels 1 or 3) as a baseline JPEG of the given
/// quality (1...100) into a malloc'ed buffer. Quality >= 90 keeps full chroma (4:4:4);
/// below that, chroma is subsampled 2x2 (4:2:0), libjpeg's default.
int cib_jpeg_encode(const uint8_t *pixels, int width, int height, int channels, int quality,
                    uint8_t **out, size_t *out_size, char *msg, size_t msg_cap);

#endif
