/*
 * _dl_find_object for static musl links that use Debian's libgcc_eh.a.
 *
 * Why: Rust's musl std wants a static libunwind; the only unwinder on this Debian host is
 * gcc's libgcc_eh.a, built against glibc >= 2.35, whose _Unwind_Find_FDE calls glibc's
 * _dl_find_object (musl has none). This implements the same contract on top of
 * dl_iterate_phdr (which musl provides, also in static binaries): find the loaded object
 * whose PT_LOAD segments contain `pc` and return its PT_GNU_EH_FRAME.
 * Layout: glibc <bits/dl_find_object.h> for x86_64 (no dlfo_eh_dbase, no dlfo_eh_count).
 */
#define _GNU_SOURCE
#include <link.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/*
 * libgcc_eh references these weakly (gthr-posix.h) and decides that threads are active from
 * __pthread_key_create, which musl's libc.a defines. Weak references never pull archive
 * members, so without the strong references below they stay NULL in a static link and the
 * unwinder calls address 0 on the first panic.
 */
__attribute__((used)) void *const vpc_libgcc_eh_pthread_refs[] = {
	(void *)pthread_once,
	(void *)pthread_mutex_lock,
	(void *)pthread_mutex_unlock,
	(void *)pthread_key_create,
	(void *)pthread_getspecific,
	(void *)pthread_setspecific,
};

struct dl_find_object {
	unsigned long long int dlfo_flags;
	void *dlfo_map_start;
	void *dlfo_map_end;
	struct link_map *dlfo_link_map;
	void *dlfo_eh_frame;
	unsigned long long int __dlfo_reserved[7];
};

struct query {
	uintptr_t pc;
	struct dl_find_object *out;
	int found;
};

static int visit(struct dl_phdr_info *info, size_t size, void *data)
{
	struct query *q = data;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	void *eh = NULL;
	int hit = 0;
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		if (p->p_type == PT_LOAD) {
			uintptr_t s = info->dlpi_addr + p->p_vaddr;
			uintptr_t e = s + p->p_memsz;
			if (s < lo)
				lo = s;
			if (e > hi)
				hi = e;
			if (q->pc >= s && q->pc < e)
				hit = 1;
		} else if (p->p_type == PT_GNU_EH_FRAME) {
			eh = (void *)(info->dlpi_addr + p->p_vaddr);
		}
	}
	if (!hit)
		return 0;
	q->out->dlfo_flags = 0;
	q->out->dlfo_map_start = (void *)lo;
	q->out->dlfo_map_end = (void *)hi;
	q->out->dlfo_link_map = NULL;
	q->out->dlfo_eh_frame = eh;
	q->found = 1;
	return 1;
}

int _dl_find_object(void *pc, struct dl_find_object *out)
{
	struct query q = { (uintptr_t)pc, out, 0 };
	dl_iterate_phdr(visit, &q);
	return q.found ? 0 : -1;
}
