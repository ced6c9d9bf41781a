"""Label printers: labels, ESC/POS and ZPL renderers, transports, status, the spool."""
