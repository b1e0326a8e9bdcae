/* Small text helpers shared by the config readers. */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "text.h"

char *dl_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}
