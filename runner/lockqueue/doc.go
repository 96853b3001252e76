// Package lockqueue is the durable plan queue behind a held project lock.
// A PR whose plan is refused because another PR holds the project's lock
// waits in the queue of that lock; once the lock is free, the first PR
// still open in the queue is planned by itself, in the order the PRs
// asked. The queue is durable: a record per waiting PR and lock, in the
// bucket planqueue, keyed by the lock and a sequence number, so it
// survives restarts and is shared by replicas on one store.
//
// Nobody hands the lock over: the first waiter's plan takes it as any plan
// does. So that no PR jumps the queue between the release and that plan,
// a plan finding the lock free while another PR waits first for it is
// refused as well, behind that PR (Queue.LockFor).
//
// The queue decides who is next; starting that PR's plan is the engine's
// (Engine.PlanWaiter), and it records the run with the waiter in the same
// transaction (BindRun). The queue is served by the leader alone.
package lockqueue
