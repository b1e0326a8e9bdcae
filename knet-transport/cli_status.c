/* `disklink status`: asks the running disklinkd for its state. */
#include "config.h"

#include <stdio.h>

#include "cli.h"

int dl_cmd_status(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "disklink status: not available yet\n");
	return 1;
}
