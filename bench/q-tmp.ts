process.env.LOGSQL = '0';
