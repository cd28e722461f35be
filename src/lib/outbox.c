/* outbox.c - placeholder: being written (issue 5). */
#include "internal.h"
typedef int gcmsg__placeholder_outbox;
