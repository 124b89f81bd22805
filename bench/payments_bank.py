"""Bank statement import time: a 1C ClientBank file (cp1251) of N incoming
payments imported by ``portmonet payments bank import``, then ``portmonet check``.

    .venv/bin/python bench/payments_bank.py --lines 100000 --template-db /work/seed-1m/Data.fs

With --template-db the database is a fresh copy of a ready (seeded) one;
else it is kept in --dir and seeded up to --subscribers once.

90 % of the payments name an account number in the purpose, 5 % a contract
number, 5 % nothing (they go to the suspense queue).
"""
import argparse
import os
import random
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from payments_env import cpu_seconds, prepare, Env, with_root  # noqa: E402
from portmonet.model.contract import account_number  # noqa: E402

OURS = "40702810900000012345"


def statement(refs, lines, seed=1):
    """A statement whose payer accounts carry *seed*, so every run's
    documents are new payments."""
    rng = random.Random(seed)
    out = ["1CClientBankExchange", "ВерсияФормата=1.03", "Кодировка=Windows",
           "Отправитель=Бухгалтерия", f"РасчСчет={OURS}", "СекцияРасчСчет", f"РасчСчет={OURS}",
           "КонецРасчСчет"]
    for n in range(1, lines + 1):
        account, contract = refs[rng.randrange(len(refs))]
        roll = rng.random()
        if roll < 0.90:
            purpose = f"Оплата услуг связи по л/с {account}. Без НДС"
        elif roll < 0.95:
            purpose = f"Оплата по договору {contract} за ноябрь 2026"
        else:
            purpose = "Оплата за интернет"
        out += ["СекцияДокумент=Платежное поручение", f"Номер={n}", "Дата=24.11.2026",
                f"Сумма={rng.randint(100, 5000)}.{rng.randint(0, 99):02d}",
                f"ПлательщикСчет=408178{seed % 10**6:06d}{n:08d}", "Плательщик1=Физическое лицо",
                f"ПлательщикИНН={rng.randint(10**11, 10**12 - 1)}", f"ПолучательСчет={OURS}",
                "Получатель1=ООО Провайдер", f"НазначениеПлатежа={purpose}", "КонецДокумента"]
    out.append("КонецФайла")
    return ("\r\n".join(out) + "\r\n").encode("cp1251")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--template-db", help="copy this Data.fs (and its .index) first")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--skip-check", action="store_true",
                        help="no 'portmonet check' at the end (quick iterations only)")
    parser.add_argument("--profile", action="store_true",
                        help="run the import under cProfile (<dir>/import.prof)")
    parser.add_argument("--dir", default=os.path.join(os.path.dirname(__file__), "out",
                                                       "payments-bank"))
    args = parser.parse_args()
    env = Env(args.dir, template=args.template_db)
    try:
        started = time.perf_counter()
        prepare(env, 0 if args.template_db else args.subscribers)
        print(f"init (evolve steps) {time.perf_counter() - started:.0f} s")

        def sample(root, conn):
            # Seeded subscribers are 1..N, one contract each: their numbers
            # are known without loading a million objects; a few are checked.
            total = len(root["subscribers"])
            rng = random.Random(3)
            ids = [rng.randint(1, total) for _ in range(min(total, 200_000))]
            refs = [(account_number(i, 1), f"{i}-1") for i in ids]
            for number, contract in refs[:20]:
                assert root.catalog.accounts.get(number) is not None, number
                assert root.catalog.contracts.get(contract) is not None, contract
            return refs, total
        refs, total = with_root(env, sample)
        print(f"subscribers in the database: {total}")
        path = os.path.join(args.dir, f"statement-{int(time.time())}.txt")
        started = time.perf_counter()
        data = statement(refs, args.lines, seed=int(time.time()))
        with open(path, "wb") as f:
            f.write(data)
        print(f"statement: {args.lines} documents, {len(data) / 1e6:.1f} MB cp1251 "
              f"(written in {time.perf_counter() - started:.1f} s)")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        zeo_before = cpu_seconds(env.zeo.pid)
        proc, took = env.portmonet("payments", "bank", "import", path, "--format", "1c",
                                   "--bank", "bench", "--batch", str(args.batch),
                                   profile=os.path.join(args.dir, "import.prof")
                                   if args.profile else None)
        print(f"import: {proc.stdout.strip()}")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        print(f"import wall time (process start to exit): {took:.1f} s, "
              f"{args.lines / took:.0f} lines/s")
        print(f"CPU: import process {cpu:.1f} s ({cpu / args.lines * 1000:.2f} ms/line), "
              f"ZEO server {cpu_seconds(env.zeo.pid) - zeo_before:.1f} s")
        proc, again = env.portmonet("payments", "bank", "import", path, "--format", "1c",
                                    "--bank", "bench", "--batch", str(args.batch))
        print(f"same file again: {proc.stdout.strip()} in {again:.1f} s")
        print(f"load average (1 min) {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
              f"(shared machine)")
        if args.skip_check:
            print("portmonet check skipped (--skip-check)")
            sys.exit(0)
        proc, took = env.portmonet("check", check=False)
        print(f"portmonet check ({took:.0f} s): {proc.stdout.strip().splitlines()[-1]}")
        sys.exit(proc.returncode)
    finally:
        env.close()


if __name__ == "__main__":
    main()
