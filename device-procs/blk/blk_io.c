/* SPDX-License-Identifier: MIT */
#include "blk_io.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "log.h"

#define BLK_IO_MAX_THREADS 16

struct blk_io {
	pthread_mutex_t lock;
	pthread_cond_t work; /* job queued or stopping */
	pthread_cond_t idle; /* pending reached zero */
	struct blk_io_job *head, *tail;
	unsigned pending; /* queued + running */
	bool stop;
	unsigned nthreads;
	pthread_t threads[BLK_IO_MAX_THREADS];
};

static void *worker(void *arg)
{
	struct blk_io *io = arg;
	pthread_mutex_lock(&io->lock);
	for (;;) {
		while (!io->head && !io->stop)
			pthread_cond_wait(&io->work, &io->lock);
		if (!io->head)
			break; /* stopping with nothing left */
		struct blk_io_job *j = io->head;
		io->head = j->next;
		if (!io->head)
			io->tail = NULL;
		pthread_mutex_unlock(&io->lock);
		j->fn(j);
		pthread_mutex_lock(&io->lock);
		if (--io->pending == 0)
			pthread_cond_broadcast(&io->idle);
	}
	pthread_mutex_unlock(&io->lock);
	return NULL;
}

struct blk_io *blk_io__new(unsigned nthreads)
{
	struct blk_io *io = calloc(1, sizeof(*io));
	if (!io)
		return NULL;
	pthread_mutex_init(&io->lock, NULL);
	pthread_cond_init(&io->work, NULL);
	pthread_cond_init(&io->idle, NULL);
	if (nthreads > BLK_IO_MAX_THREADS)
		nthreads = BLK_IO_MAX_THREADS;
	for (unsigned i = 0; i < nthreads; i++) {
		if (pthread_create(&io->threads[i], NULL, worker, io) != 0) {
			log__err("blk: cannot start I/O thread %u", i);
			break;
		}
		io->nthreads++;
	}
	if (nthreads && !io->nthreads) {
		free(io);
		return NULL;
	}
	return io;
}

void blk_io__submit(struct blk_io *io, struct blk_io_job *job)
{
	if (!io->nthreads) {
		job->fn(job);
		return;
	}
	job->next = NULL;
	pthread_mutex_lock(&io->lock);
	if (io->tail)
		io->tail->next = job;
	else
		io->head = job;
	io->tail = job;
	io->pending++;
	pthread_cond_signal(&io->work);
	pthread_mutex_unlock(&io->lock);
}

void blk_io__drain(struct blk_io *io)
{
	pthread_mutex_lock(&io->lock);
	while (io->pending)
		pthread_cond_wait(&io->idle, &io->lock);
	pthread_mutex_unlock(&io->lock);
}

void blk_io__free(struct blk_io *io)
{
	if (!io)
		return;
	blk_io__drain(io);
	pthread_mutex_lock(&io->lock);
	io->stop = true;
	pthread_cond_broadcast(&io->work);
	pthread_mutex_unlock(&io->lock);
	for (unsigned i = 0; i < io->nthreads; i++)
		pthread_join(io->threads[i], NULL);
	free(io);
}
