// Intrusive doubly linked lists.
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct list_head {
    struct list_head *next, *prev;
};

#define LIST_INIT(name) {&(name), &(name)}
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_for_each(pos, head) for (struct list_head *pos = (head)->next; pos != (head); pos = pos->next)
#define list_for_each_safe(pos, tmp, head) \
    for (struct list_head *pos = (head)->next, *tmp = pos->next; pos != (head); pos = tmp, tmp = pos->next)

static inline void list_init(struct list_head *h) { h->next = h->prev = h; }
static inline bool list_empty(const struct list_head *h) { return h->next == h; }
static inline void list_insert(struct list_head *n, struct list_head *prev, struct list_head *next) {
    next->prev = n;
    n->next = next;
    n->prev = prev;
    prev->next = n;
}
static inline void list_add_tail(struct list_head *n, struct list_head *h) { list_insert(n, h->prev, h); }
static inline void list_add(struct list_head *n, struct list_head *h) { list_insert(n, h, h->next); }
static inline void list_del(struct list_head *n) {
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = n;
}
static inline struct list_head *list_pop(struct list_head *h) {
    if (list_empty(h))
        return NULL;
    struct list_head *n = h->next;
    list_del(n);
    return n;
}
