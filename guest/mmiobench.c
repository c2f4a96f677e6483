#include "rt.h"
int main(void)
{
	rt_printf("mmiobench todo\n");
	return 1;
}
