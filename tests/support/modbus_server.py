#!/usr/bin/python3
"""Scriptable Modbus TCP / RTU slave for gatewayd integration tests and benchmarks.

    modbus_server.py --map MAP.json --log REQUESTS.log
                     (--tcp PORT [--host 127.0.0.1] |
                      --rtu DEVICE [--baud 19200 --parity N|E|O --bytesize 8 --stopbits 1])

MAP.json:
    {"units": {"1": {"holding": {"0": 4660}, "input": {"0": 7},
                     "coils": {"0": 1}, "discrete": {"3": 0}},
               "7": {"exception": 2}},
     "silent_units": [9]}

Addresses are the 0-based PDU addresses seen on the wire; anything not listed
reads as 0. A unit with "exception" answers every request with that exception
code. Units in "silent_units", and units not in the map at all, never answer.

Every request is appended to the log as one line, flushed before the response
is sent:
    read unit=1 fc=3 address=0 count=40
    write unit=1 fc=16 address=10 values=4660,22136
    exception unit=7 fc=3 address=0 count=2 code=2
    silent unit=9 fc=3 address=0 count=2
A request that cannot be decoded is logged with just "unit=U fc=F".

Prints "ready" on stdout once listening; exits with status 0 on SIGTERM/SIGINT.

Only pymodbus's PDU layer (decoder, request execute(), response encoding, RTU
frame sizing/CRC) is used. Its server module is unusable here (3.0.0rc1 imports
serial_asyncio unconditionally, which Debian only recommends), its TCP framer
mis-handles requests split across reads, and its TCP server does not set
SO_REUSEADDR, so the socket and serial loops are our own.
"""

import argparse
import asyncio
import json
import logging
import signal
import struct
import sys

import serial

from pymodbus.factory import ServerDecoder
from pymodbus.framer.rtu_framer import ModbusRtuFramer
from pymodbus.framer.socket_framer import ModbusSocketFramer
from pymodbus.interfaces import IModbusSlaveContext
from pymodbus.pdu import ExceptionResponse, ModbusExceptions

READ_FCS = {1, 2, 3, 4}
WRITE_FCS = {5, 6, 15, 16}
BIT_FCS = {1, 2, 5, 15}

log = logging.getLogger("modbus_server")


class SlaveContext(IModbusSlaveContext):
    """Sparse per-unit store addressed exactly as on the wire.

    pymodbus's own ModbusSlaveContext adds 1 to every address unless
    zero_mode is set, and needs the whole address space allocated up front;
    a dict per table avoids both.
    """

    TABLES = {"coils": "c", "discrete": "d", "holding": "h", "input": "i"}

    def __init__(self, spec):
        self.initial = {}
        for name, key in self.TABLES.items():
            limit = 1 if key in "cd" else 0xFFFF
            table = {int(addr): int(value) for addr, value in spec.get(name, {}).items()}
            for addr, value in table.items():
                # Fail at startup, not with a struct.error on the first read.
                if not (0 <= addr <= 0xFFFF and 0 <= value <= limit):
                    raise ValueError(f"bad {name} entry {addr}: {value}")
            self.initial[key] = table
        self.reset()

    def reset(self):
        self.store = {key: dict(table) for key, table in self.initial.items()}

    def validate(self, fx, address, count=1):
        # The interface's fc->table mapper also knows 22/23; we only serve the basics.
        if fx not in READ_FCS | WRITE_FCS:
            return False
        return 0 <= address and address + count <= 0x10000

    def getValues(self, fx, address, count=1):
        table = self.store[self.decode(fx)]
        return [table.get(addr, 0) for addr in range(address, address + count)]

    def setValues(self, fx, address, values):
        table = self.store[self.decode(fx)]
        # Coil values arrive as bools; store ints so reads are uniform.
        table.update(zip(range(address, address + len(values)), map(int, values)))


class RequestHandler:
    """Turns one request PDU into a response PDU (or None), logging it first."""

    def __init__(self, units, exceptions, log_file):
        self.units = units            # unit id -> SlaveContext
        self.exceptions = exceptions  # unit id -> forced exception code
        self.log_file = log_file
        self.decoder = ServerDecoder()

    def handle(self, unit, pdu):
        fc = pdu[0]
        try:
            request = self.decoder.decode(pdu)
        except Exception:  # short/garbled PDUs raise struct.error, not ModbusException
            request = None
        fields = self.describe(unit, fc, request)

        if unit in self.exceptions:
            response = ExceptionResponse(fc, self.exceptions[unit])
        elif unit in self.units:
            if request is None:
                response = ExceptionResponse(fc, ModbusExceptions.IllegalValue)
            elif fc not in READ_FCS | WRITE_FCS:
                response = ExceptionResponse(fc, ModbusExceptions.IllegalFunction)
            else:
                response = request.execute(self.units[unit])
        else:
            self.record("silent", fields)
            return None

        if isinstance(response, ExceptionResponse):
            self.record("exception", f"{fields} code={response.exception_code}")
        else:
            self.record("read" if fc in READ_FCS else "write", fields)
        response.unit_id = unit
        return response

    @staticmethod
    def describe(unit, fc, request):
        fields = f"unit={unit} fc={fc}"
        if request is None or fc not in READ_FCS | WRITE_FCS:
            return fields
        fields += f" address={request.address}"
        if fc in READ_FCS:
            return fields + f" count={request.count}"
        values = request.values if fc in (15, 16) else [request.value]
        if fc in BIT_FCS:
            values = [int(bool(v)) for v in values]
        return fields + " values=" + ",".join(str(v) for v in values)

    def record(self, kind, fields):
        # Flushed before the response goes out, so a client that has its answer
        # can already count the line.
        self.log_file.write(f"{kind} {fields}\n")
        self.log_file.flush()


async def serve_tcp(handler, host, port, stop):
    framer = ModbusSocketFramer(handler.decoder)
    writers = set()

    async def client(reader, writer):
        writers.add(writer)
        try:
            while True:
                # MBAP: transaction id, protocol id, length (unit + PDU), unit id
                tid, pid, length, unit = struct.unpack(">HHHB", await reader.readexactly(7))
                if not 2 <= length <= 254:
                    log.warning("bad MBAP length %d, dropping connection", length)
                    break
                response = handler.handle(unit, await reader.readexactly(length - 1))
                if response is not None:
                    response.transaction_id = tid
                    response.protocol_id = pid
                    writer.write(framer.buildPacket(response))
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writers.discard(writer)
            writer.close()

    # asyncio sets SO_REUSEADDR by default, so a restart can rebind at once
    # even while old connections sit in TIME_WAIT.
    server = await asyncio.start_server(client, host, port, reuse_address=True)
    print("ready", flush=True)
    await stop.wait()
    server.close()
    for writer in list(writers):
        writer.close()
    return 0


async def serve_rtu(handler, args, stop):
    port = serial.Serial(args.rtu, baudrate=args.baud, parity=args.parity,
                         bytesize=args.bytesize, stopbits=args.stopbits, timeout=0)
    port.reset_input_buffer()
    framer = ModbusRtuFramer(handler.decoder)
    loop = asyncio.get_running_loop()
    # Leftover bytes that never complete a frame are dropped after this much
    # silence. Deliberately looser than the spec's 3.5 characters: ptys and USB
    # adapters deliver bytes in bursts, and a request/response master never
    # sends the next frame before our answer, so this only matters for resync.
    char_time = (1 + args.bytesize + (args.parity != "N") + args.stopbits) / args.baud
    resync_after = max(3.5 * char_time, 0.05)
    resync_timer = None
    failed = []

    def process_frames():
        # pymodbus's framer sizes each request from its function code and checks
        # the CRC; we pull the PDUs out ourselves so both transports share
        # RequestHandler.handle (processIncomingPacket swallows bad frames unlogged).
        while framer.isFrameReady():
            if not framer.checkFrame():
                # The framer sizes unknown function codes as 5 bytes, so those
                # fail the CRC too and go unanswered.
                log.warning("RTU frame dropped (bad CRC or unknown function code): %s",
                            framer.getRawFrame().hex())
                framer.resetFrame()
                return
            unit = framer.getRawFrame()[0]
            pdu = framer.getFrame()
            framer.advanceFrame()
            response = handler.handle(unit, pdu)
            if response is not None:
                port.write(framer.buildPacket(response))

    def resync():
        if framer.getRawFrame():
            log.warning("incomplete RTU frame dropped: %s", framer.getRawFrame().hex())
            framer.resetFrame()

    def readable():
        nonlocal resync_timer
        try:
            framer.addToFrame(port.read(port.in_waiting or 1))
            process_frames()
        except (serial.SerialException, OSError) as exc:
            # e.g. EIO once socat closes the pty: give up rather than spin.
            log.error("serial I/O failed: %s", exc)
            loop.remove_reader(port.fileno())
            failed.append(exc)
            stop.set()
            return
        except Exception as exc:  # garbage the framer cannot size
            log.warning("unparseable RTU data dropped (%s): %s", exc, framer.getRawFrame().hex())
            framer.resetFrame()
        if resync_timer:
            resync_timer.cancel()
        resync_timer = loop.call_later(resync_after, resync) if framer.getRawFrame() else None

    loop.add_reader(port.fileno(), readable)
    print("ready", flush=True)
    await stop.wait()
    loop.remove_reader(port.fileno())
    port.close()
    return 1 if failed else 0


def load_map(path):
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    units, exceptions = {}, {}
    silent = {int(u) for u in spec.get("silent_units", [])}
    for unit, unit_spec in spec.get("units", {}).items():
        unit = int(unit)
        if unit in silent:
            continue
        if "exception" in unit_spec:
            exceptions[unit] = int(unit_spec["exception"])
        else:
            units[unit] = SlaveContext(unit_spec)
    return units, exceptions


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--map", required=True, help="register map JSON")
    parser.add_argument("--log", required=True, help="request log, appended to")
    transport = parser.add_mutually_exclusive_group(required=True)
    transport.add_argument("--tcp", type=int, metavar="PORT")
    transport.add_argument("--rtu", metavar="DEVICE")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--baud", type=int, default=19200)
    parser.add_argument("--parity", choices="NEO", default="N")
    parser.add_argument("--bytesize", type=int, choices=(5, 6, 7, 8), default=8)
    parser.add_argument("--stopbits", type=int, choices=(1, 2), default=1)
    return parser.parse_args()


async def main():
    args = parse_args()
    # force: importing pymodbus.constants already ran basicConfig on the root logger.
    logging.basicConfig(format="modbus_server: %(message)s", level=logging.WARNING, force=True)
    # pymodbus logs every exception response at ERROR; for us they are routine.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

    units, exceptions = load_map(args.map)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    with open(args.log, "a", encoding="utf-8") as log_file:
        handler = RequestHandler(units, exceptions, log_file)
        if args.tcp is not None:
            return await serve_tcp(handler, args.host, args.tcp, stop)
        return await serve_rtu(handler, args, stop)


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except (OSError, ValueError, serial.SerialException) as exc:
        sys.exit(f"modbus_server: {exc}")
