#include "rt.h"
int main(void)
{
	rt_printf("smp todo\n");
	return 1;
}
