-- One database per store (the POSTGRES_USER owns them all).
CREATE DATABASE mlflow;
CREATE DATABASE prefect;
CREATE DATABASE requests;
