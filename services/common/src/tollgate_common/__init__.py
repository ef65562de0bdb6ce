"""Shared library of Tollgate's services: settings, logging, gRPC server, errors, bus, db."""
