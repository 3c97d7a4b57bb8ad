#!/bin/bash
# The official rabbitmq image's entrypoint, reduced to what docker-compose.yml relies on.
set -euo pipefail
[ "${1:-rabbitmq-server}" = rabbitmq-server ] || exec "$@"

user=${RABBITMQ_DEFAULT_USER:-guest} pass=${RABBITMQ_DEFAULT_PASS:-guest}
umask 027
cat >/etc/rabbitmq/rabbitmq.conf <<CONF
# Written by docker-entrypoint.sh at every start.
listeners.tcp.default = 5672
management.tcp.port = 15672
loopback_users = none
default_user = $user
default_pass = $pass
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
log.console = true
log.console.level = info
log.file = false
CONF
chown root:rabbitmq /etc/rabbitmq/rabbitmq.conf
mkdir -p /var/lib/rabbitmq /var/log/rabbitmq
chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /var/log/rabbitmq
cd /var/lib/rabbitmq
exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups env HOME=/var/lib/rabbitmq \
  /usr/lib/rabbitmq/bin/rabbitmq-server
