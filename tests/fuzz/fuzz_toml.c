/* libFuzzer target: the config-file reader (TOML subset) on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gcmsg__toml_doc doc;
	char err[256];

	memset(&doc, 0, sizeof doc);
	if (gcmsg__toml_parse(&doc, (const char *)data, size, err, sizeof err) == 0) {
		/* Exercise the lookups a profile load performs. */
		(void)gcmsg__toml_get(&doc, "DEFAULT", "client_secret");
		(void)gcmsg__toml_has_table(&doc, "DEFAULT");
	}
	gcmsg__toml_free(&doc);
	return 0;
}
