DROP TABLE job_nodes;
DROP TABLE jobs;
