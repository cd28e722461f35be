/* libFuzzer target: an error answer (ErrorBody or anything else) with an arbitrary status. */
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gcmsg__err e;
	long status;

	if (size < 1)
		return 0;
	status = 400 + data[0] % 200;
	gcmsg__err_init(&e);
	gcmsg__err_from_http(&e, status, (const char *)data + 1, size - 1, size > 8 ? "corr-id" : NULL,
	                     (long)(data[0] & 7) - 1);
	gcmsg__err_clear(&e);
	return 0;
}
