-- One database per service: each service owns its tables, no table is shared.
CREATE DATABASE auth;
CREATE DATABASE router;
CREATE DATABASE billing;
CREATE DATABASE activity;
