#ifndef CIMAGEBRIDGE_H
#define CIMAGEBRIDGE_H
// C side of the image codecs: libpng and libjpeg report errors by longjmp; every setjmp
// and longjmp stays inside these C functions, which return an error code and message.
#include <stddef.h>
#include <stdint.h>
#endif
