/* gcmsg/media.h - being written (issue 4). */
#ifndef GCMSG_MEDIA_H
#define GCMSG_MEDIA_H
#include "common.h"
#endif
