/* Injected faults: the next N requests matching method + path pattern answer an ErrorBody. */
#ifndef GCSIM_FAULTS_H
#define GCSIM_FAULTS_H

#include "context.h"

/* 1 when a fault matched c (the answer is set and one use consumed), else 0. */
int sim_fault_apply(sim_ctx *c);
/* Installs a fault from its admin JSON; 0 or -1 with an admin error answer set. */
int sim_fault_install(sim_ctx *c, const json_t *spec);
/* Removes every fault; returns how many there were. */
size_t sim_faults_clear(sim_state *st);
/* The installed faults as JSON. */
json_t *sim_faults_json(const sim_state *st);

#endif
