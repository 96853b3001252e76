// Package view says what the runner has to say on a pull request: a
// run's comment rendered from its run and job records (in as many parts
// as the code host's size limit needs, edited in place), one-off replies
// and notices, and each job's check run (opened queued, shown running,
// completed from the outcome). Every sentence comes from a
// template in templates/; every text is masked before it leaves.
//
// It decides nothing: the root runner and the packages below it tell it
// what happened and it shows it.
package view
