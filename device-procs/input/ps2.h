/* SPDX-License-Identifier: MIT */
/*
 * A bounded byte queue shared by the PS/2 keyboard and mouse models: what
 * a device has sent towards the i8042 but the controller has not yet moved
 * into its output buffer.
 *
 * Events (keys, motion) may only fill the queue up to PS2_EVENT_LIMIT, so
 * that command responses (at most 4 bytes each) always find room even
 * while a flood of events is queued; past the limit, events are dropped.
 */
#ifndef CELLVM_INPUT_PS2_H
#define CELLVM_INPUT_PS2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PS2_QUEUE	64
#define PS2_EVENT_LIMIT (PS2_QUEUE - 16)

struct ps2_queue {
	uint8_t b[PS2_QUEUE];
	unsigned head, count;
};

static inline void ps2q__clear(struct ps2_queue *q)
{
	q->head = q->count = 0;
}

/* Append one byte; false (byte dropped) when the queue is full. */
static inline bool ps2q__push(struct ps2_queue *q, uint8_t v)
{
	if (q->count >= PS2_QUEUE)
		return false;
	q->b[(q->head + q->count) % PS2_QUEUE] = v;
	q->count++;
	return true;
}

/* Remove the oldest byte into *v; false when empty. */
static inline bool ps2q__pop(struct ps2_queue *q, uint8_t *v)
{
	if (!q->count)
		return false;
	*v = q->b[q->head];
	q->head = (q->head + 1) % PS2_QUEUE;
	q->count--;
	return true;
}

/* Room left for an event of n bytes (all or nothing), within the event limit. */
static inline bool ps2q__event_room(const struct ps2_queue *q, unsigned n)
{
	return q->count + n <= PS2_EVENT_LIMIT;
}

#endif
