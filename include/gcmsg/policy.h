/* gcmsg/policy.h - being written (issue 4). */
#ifndef GCMSG_POLICY_H
#define GCMSG_POLICY_H
#include "common.h"
#endif
