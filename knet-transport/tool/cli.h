/* Subcommands of the `disklink` tool: each returns the process exit
 * status (documented in doc/disklink.8). */
#ifndef DL_CLI_H
#define DL_CLI_H

int dl_cmd_status(int argc, char **argv);
int dl_cmd_format(int argc, char **argv);
int dl_cmd_show(int argc, char **argv);
int dl_cmd_dump(int argc, char **argv);
int dl_cmd_check(int argc, char **argv);
int dl_cmd_release(int argc, char **argv);
int dl_cmd_find(int argc, char **argv);
int dl_cmd_corosync_link(int argc, char **argv);
int dl_cmd_role(int argc, char **argv);
int dl_cmd_gate(int argc, char **argv);
int dl_cmd_corosync_conf(int argc, char **argv);

#endif
