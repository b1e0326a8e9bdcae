/* Subcommands of the `disklink` tool: each returns the process exit
 * status (documented in doc/disklink.8). */
#ifndef DL_CLI_H
#define DL_CLI_H

int dl_cmd_status(int argc, char **argv);

#endif
