from brownie import chain, web3
from brownie.exceptions import VirtualMachineError
from support import WIJK
from socialcoin.areas import to_bytes8


def test_probe(factory, admin):
    now = chain.time()
    blk = web3.eth.block_number
    try:
        factory.createCoin(("n", "s", 2, to_bytes8(WIJK), now - 10, False), {"from": admin})
    except VirtualMachineError as e:
        print("ERR", repr(e.revert_msg), vars(e).keys(), getattr(e, "txid", None))
        print(blk, web3.eth.block_number, web3.eth.get_block("latest").timestamp, now)
    print(chain.time(), web3.eth.get_block("latest").timestamp)
