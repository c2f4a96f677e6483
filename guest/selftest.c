#include "rt.h"
int main(void)
{
	rt_printf("selftest todo\n");
	return 1;
}
