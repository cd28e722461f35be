/* template.c - being written (issue 3). */
typedef int gcmsg__wip_template;
