/* Small text helpers shared by the config readers (corosync.conf,
 * disklinkd's config file). */
#ifndef DL_TEXT_H
#define DL_TEXT_H

/* s without leading and trailing white space (isspace); the trailing part
 * is cut off in place. */
char *dl_trim(char *s);

#endif
