"""Why the chain refused an outbox item, in plain Dutch and English: the one table every view of a failed
write reads (a mint, a payment, an operation). The codes are the contracts' custom errors, and a few of
the outbox's own (TransactionReverted, Cancelled)."""

from __future__ import annotations

import re

from ..chain.constants import TransferRefusal

WAS_PAUSED = (
    "Socialcoin stond stil (gepauzeerd) toen dit de blockchain bereikte. Probeer het opnieuw na de pauze.",
    "Socialcoin was paused when this reached the chain. Try again after the pause.",
)

REFUSALS: dict[str, tuple[str, str]] = {
    "EnforcedPause": WAS_PAUSED,
    "ExpectedPause": ("Socialcoin stond niet stil.", "Socialcoin was not paused."),
    "RegistryAlreadyFrozen": (
        "Een van de wallets was al bevroren.",
        "One of the wallets was already frozen.",
    ),
    "RegistryNotFrozen": ("Een van de wallets was niet bevroren.", "One of the wallets was not frozen."),
    "RegistryNotRegistered": ("Een wallet is niet aangemeld.", "A wallet is not registered."),
    "RegistryAlreadyRegistered": (
        "Deze wallet was al aangemeld.",
        "This wallet was already registered.",
    ),
    "RegistryAddressLost": (
        "Dit adres was een verloren wallet en wordt nooit meer gebruikt.",
        "This address was a lost wallet and is never used again.",
    ),
    "RegistryRecoveryPending": (
        "Voor deze wallet liep al een herstelaanvraag.",
        "This wallet already had a pending recovery request.",
    ),
    "RegistryNoRecoveryRequest": (
        "Voor deze wallet liep geen herstelaanvraag (meer): misschien is hij ingetrokken.",
        "This wallet had no pending recovery request (any more): it may have been cancelled.",
    ),
    "RegistryRecoveryNotDue": (
        "De wachttijd van het herstel was nog niet voorbij.",
        "The recovery's delay had not yet passed.",
    ),
    "RegistryCancelNotAllowed": (
        "Alleen de beheerder of de verloren sleutel zelf mag een herstelaanvraag intrekken.",
        "Only the admin or the lost key itself may cancel a recovery request.",
    ),
    "AccessControlUnauthorizedAccount": (
        "De sleutel van de service heeft de rol hiervoor niet (meer).",
        "The service's key does not (or no longer) hold the role for this.",
    ),
    "FactoryLiveCoinExists": (
        "Er is al een geldige munt voor dit doel en gebied.",
        "A live coin for this purpose and area already exists.",
    ),
    "FactoryExpiryInPast": ("De vervaldatum was al voorbij.", "The expiry had already passed."),
    "FactoryGraceWithoutExpiry": (
        "Een inwisseltermijn voor ondernemers kan alleen bij een munt met een vervaldatum.",
        "A redemption grace for merchants needs a coin with an expiry.",
    ),
    "CoinNotExpired": ("De munt was nog niet verlopen.", "The coin had not expired yet."),
    "IssuerNotAMinter": ("De minter van de service is geen minter.", "The service's minter is not a minter."),
    "IssuerAllowanceExceeded": (
        "Het muntbudget van de service op de blockchain was op. Laat de beheerder het ophogen en probeer "
        "het opnieuw.",
        "The service's minting allowance on chain was used up. Have the administrator raise it, then try "
        "again.",
    ),
    "IssuerVerifierNotAuthorized": (
        "De controleur die ondertekende is (niet meer) erkend voor deze munt.",
        "The verifier who signed is not (or no longer) authorised for this coin.",
    ),
    "IssuerAttestationExpired": (
        "De handtekening van de organisatie was verlopen.",
        "The organisation's signature had expired.",
    ),
    "IssuerClaimAlreadyUsed": (
        "Deze beloning is al eerder gemunt; er komt niets dubbel bij.",
        "This reward was minted before; nothing is minted twice.",
    ),
    "IssuerNotAResident": (
        "De ontvanger is (nog) geen aangemelde inwoner.",
        "The receiver is not (yet) a registered resident.",
    ),
    "IssuerUnknownCoin": ("Deze munt kent de blockchain niet.", "The chain does not know this coin."),
    "CoinTransferRefused": (
        "De regels van de munt stonden dit niet toe (bijvoorbeeld een bevroren wallet of te weinig saldo).",
        "The coin's rules did not allow this (a frozen wallet or too little balance, for instance).",
    ),
    "CoinBurnNotAllowed": (
        "Munten met dit doel kunnen hiervoor niet gebruikt worden.",
        "Coins of this purpose cannot be used for this.",
    ),
    "CoinRefundExceedsPayment": (
        "Er wordt meer terugbetaald dan er nog van deze betaling over is.",
        "The refund is more than what is left of this payment.",
    ),
    "CoinSpenderNotRegistered": (
        "Wie de munten namens de houder wilde overmaken, is niet aangemeld.",
        "Whoever tried to move the coins on the holder's behalf is not registered.",
    ),
    "CoinSpenderFrozen": (
        "Wie de munten namens de houder wilde overmaken, is bevroren.",
        "Whoever tried to move the coins on the holder's behalf is frozen.",
    ),
    "AuthorizationAlreadyUsed": (
        "Deze ondertekening was al gebruikt.",
        "This authorization was already used.",
    ),
    "AuthorizationExpired": (
        "De ondertekening was verlopen voordat de blockchain hem verwerkte.",
        "The authorization expired before the chain processed it.",
    ),
    "TransactionReverted": (
        "De blockchain weigerde dit een paar keer achter elkaar.",
        "The chain refused this several times in a row.",
    ),
    "Cancelled": (
        "De gemeente heeft dit geannuleerd toen het vastliep; er is niets gebeurd.",
        "The municipality cancelled this while it was stuck; nothing happened.",
    ),
}


# CoinTransferRefused carries the transfer rule's reason (TransferRefusal): said more precisely.
TRANSFER_REFUSALS: dict[str, tuple[str, str]] = {
    "SYSTEM_PAUSED": WAS_PAUSED,
    "COIN_EXPIRED": ("De munt was verlopen.", "The coin had expired."),
    "RECEIVER_FROZEN": ("De wallet van de ontvanger is bevroren.", "The receiver's wallet is frozen."),
    "SENDER_FROZEN": ("De wallet van de afzender is bevroren.", "The sender's wallet is frozen."),
    "RECEIVER_NOT_REGISTERED": ("De ontvanger is niet aangemeld.", "The receiver is not registered."),
    "INSUFFICIENT_BALANCE": ("Het saldo was niet genoeg.", "The balance was not enough."),
    "HOLDING_CAP_EXCEEDED": (
        "De ontvanger zou dan meer van deze munt hebben dan een inwoner mag bezitten.",
        "The receiver would then hold more of this coin than a resident may.",
    ),
    "BURN_NOT_ALLOWED": (
        "Munten met dit doel kunnen hiervoor niet gebruikt worden.",
        "Coins of this purpose cannot be used for this.",
    ),
    "REFUND_EXCEEDS_PAYMENT": (
        "Er wordt meer terugbetaald dan er nog van deze betaling over is.",
        "The refund is more than what is left of this payment.",
    ),
}
_REASON = re.compile(r"\breason=(\d+)")


def explain(code: str | None, detail: str | None = None) -> tuple[str | None, str | None]:
    """A refusal's code (and, for a transfer the coin refused, the reason in its `detail`) in Dutch and
    English (None for none)."""
    if code is None:
        return None, None
    found = _REASON.search(detail or "") if code == "CoinTransferRefused" else None
    if found is not None and int(found.group(1)) in TransferRefusal._value2member_map_:
        reason = TransferRefusal(int(found.group(1))).name
        if reason in TRANSFER_REFUSALS:
            return TRANSFER_REFUSALS[reason]
    return REFUSALS.get(code, (f"De blockchain weigerde dit ({code}).", f"The chain refused this ({code})."))
