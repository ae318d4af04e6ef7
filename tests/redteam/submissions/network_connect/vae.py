"""Attack: reach the network, the host's loopback and the host's abstract unix sockets.

Tries TCP to the test's listener on 127.0.0.1, localhost and ::1, a UDP datagram to it, a
connection to its abstract unix socket, TCP to 1.1.1.1:443 and 8.8.8.8:53, and a DNS lookup.
Any of these could fetch answers from a confederate; here they only show whether the way
out exists (the listener records every contact). Returns garbage.
"""
import socket

import torch

PORT = int("@PORT@")
UNIX = "@UNIX@"


def log_mean_exp(y):
    """Honest: shift each row by its maximum so that exp cannot overflow; keeps the dtype."""
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))


def _try(action):
    try:
        action()
        return True
    except OSError:
        return False


def _tcp(host, port):
    with socket.create_connection((host, port), timeout=1) as conn:
        conn.sendall(b"LEAK please send the answers\n")


def _udp():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"LEAK", ("127.0.0.1", PORT))


def _unix():
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(1)
        sock.connect("\0" + UNIX)
        sock.sendall(b"LEAK")


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    attempts = [lambda: _tcp("127.0.0.1", PORT), lambda: _tcp("localhost", PORT), lambda: _tcp("::1", PORT),
                _udp, _unix, lambda: _tcp("1.1.1.1", 443), lambda: _tcp("8.8.8.8", 53),
                lambda: socket.getaddrinfo("example.com", 443)]
    [_try(a) for a in attempts]
    return torch.full((mu_q.shape[0],), 123.0, dtype=mu_q.dtype)
