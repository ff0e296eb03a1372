//! Scenario format v1: the types a scenario RON file deserialises into.
//!
//! Every section the brief lists is here, even where later work fills in behaviour.
//! Structs deny unknown fields so a typo is an error, not a silently ignored line.
//! Field docs are the format's reference: keep them true.

use serde::{Deserialize, Serialize};

use crate::clock::{SimDuration, SimTime};
use crate::facts::{EntityKind, FactKind};
use crate::ids::*;

/// A whole scenario: one dark-market case, its world, its cast and how it is judged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Format version; this is version 1.
    pub format: u32,
    /// Title, difficulty, goals, timing.
    pub meta: Meta,
    /// The onion network: relays, onion services, boards.
    #[serde(default)]
    pub network: Network,
    /// Sites of the simulated web: markets, forums, mixers, clearnet sites.
    pub sites: Vec<Site>,
    /// The darkcoin chain's parameters and initial funds.
    pub coin: Coin,
    /// Providers holding records: exchanges, ISPs, e-mail, hosting, couriers.
    pub providers: Vec<Provider>,
    /// The cast: actors with identities, personas, scripts, slips and reactions.
    pub cast: Vec<Actor>,
    /// Legal process: which request needs which grounds, and delays.
    pub legal: Legal,
    /// Charges the prosecutor may bring, with their elements.
    pub charges: Vec<Charge>,
    /// How the prosecutor scores a team.
    pub rubric: Rubric,
    /// Instructor injects released on the clock.
    #[serde(default)]
    pub injects: Vec<Inject>,
    /// Hints a team may take, at a cost.
    #[serde(default)]
    pub hints: Vec<Hint>,
    /// What may vary between variants of this scenario (`--variant K`), e.g.
    /// `variants: Some((count: 3))`; none when absent.
    #[serde(default)]
    pub variants: Option<Variants>,
    /// The reference solution the autopilot follows; it must score full marks.
    pub solution: Vec<SolutionStep>,
    /// Background crowds (vendors and buyers generated from the seed) that make a market
    /// busy; they act through the same APIs as the cast but carry no scenario facts the
    /// case depends on. None when absent.
    #[serde(default)]
    pub population: Option<Population>,
    /// How the cast notices an investigation (the words of `Message` and `ForumWarning`
    /// triggers, how often watchful actors look); defaults when absent.
    #[serde(default)]
    pub tip_offs: TipOffs,
}

/// Metadata for instructors and the world's timing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Short machine name, e.g. `"careless-vendor"`.
    pub id: String,
    /// Title shown to instructors and teams.
    pub title: String,
    /// One paragraph for the instructor.
    #[serde(default)]
    pub summary: String,
    /// How hard the case is.
    pub difficulty: Difficulty,
    /// What trainees should learn.
    #[serde(default)]
    pub learning_goals: Vec<String>,
    /// The instructor's debrief: what the case teaches, the lawful path and the mistakes to
    /// discuss afterwards; printed by `darklab check`'s summary. Empty when absent.
    #[serde(default)]
    pub debrief: String,
    /// Simulated time at which the world starts (UTC), e.g. `"2026-03-02T08:00:00Z"`.
    pub start: SimTime,
    /// How long the cast's activity runs before the investigation starts in earnest.
    pub world_duration: SimDuration,
    /// Simulated time a team has to investigate after that, e.g. `"14d"`.
    pub time_budget: SimDuration,
    /// Recommended real duration of the exercise, e.g. `"4h"`.
    pub recommended_duration: SimDuration,
    /// Recommended clock compression: simulated seconds per real second.
    pub compression: u32,
}

/// Difficulty levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Difficulty {
    /// First exercise of a course.
    Introductory,
    /// Needs money tracing and legal process.
    Intermediate,
    /// Several suspects or foreign providers.
    Advanced,
    /// Challenge-level.
    Expert,
}

/// The onion network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// `Direct` (onion names mapped to local sockets) or `Tor` (real tor daemons).
    #[serde(default)]
    pub mode: NetworkMode,
    /// Number of directory authorities (Tor mode); at least 3.
    #[serde(default = "default_authorities")]
    pub authorities: u32,
    /// Relays and the flags the authorities should vote for them.
    #[serde(default)]
    pub relays: Vec<Relay>,
    /// Onion services and the site each serves.
    #[serde(default)]
    pub onion_services: Vec<OnionService>,
    /// Boards of a multi-board deployment (empty: one machine).
    #[serde(default)]
    pub boards: Vec<Board>,
}

fn default_authorities() -> u32 {
    3
}

impl Default for Network {
    /// A scenario without a `network` section: direct mode, Tor's minimum of three
    /// authorities should it be switched to Tor mode, nothing else declared.
    fn default() -> Self {
        Network {
            mode: NetworkMode::Direct,
            authorities: default_authorities(),
            relays: Vec::new(),
            onion_services: Vec::new(),
            boards: Vec::new(),
        }
    }
}

/// How sites are reached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum NetworkMode {
    /// Onion names resolved to loopback sockets; for tests and a quick start.
    #[default]
    Direct,
    /// A private network of real tor daemons.
    Tor,
}

/// One onion router.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Relay {
    /// Relay id, unique.
    pub id: RelayId,
    /// Flags to vote for.
    #[serde(default)]
    pub flags: Vec<RelayFlag>,
    /// Board that runs it (multi-board deployments).
    #[serde(default)]
    pub board: Option<BoardId>,
}

/// Flags a relay can be voted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum RelayFlag {
    /// Entry guard.
    Guard,
    /// Exit relay.
    Exit,
    /// Hidden-service directory.
    HsDir,
}

/// An onion service hosting a site.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OnionService {
    /// The site it serves.
    pub site: SiteId,
    /// Board that hosts it.
    #[serde(default)]
    pub board: Option<BoardId>,
}

/// A board of a deployment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Board {
    /// Board id, unique.
    pub id: BoardId,
    /// Its address on the classroom network.
    pub address: String,
}

/// A site of the simulated web.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Site id, unique.
    pub id: SiteId,
    /// Name shown on its pages.
    pub name: String,
    /// What kind of site it is.
    pub kind: SiteKind,
}

/// Kinds of site.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum SiteKind {
    /// A dark market with escrow.
    Market(MarketSite),
    /// A discussion forum about markets.
    Forum,
    /// A custodial coin mixer (tumbler): deposits are paid out later, less a fee, from
    /// other coins of its pool — the chain shows no link between deposit and payout.
    Mixer(MixerSite),
    /// A CoinJoin coordinator: participants' coins go into one transaction with
    /// equal-denomination outputs; change still links back to its owner.
    CoinJoin(CoinJoinSite),
    /// A clearnet social network.
    Social,
    /// A clearnet paste site.
    Paste,
    /// A clearnet search engine.
    Search,
}

/// Market settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarketSite {
    /// The actor who runs the market (an `Operator`).
    #[serde(default)]
    pub operator: Option<ActorId>,
    /// Commission in basis points (500 = 5 %).
    pub commission_bps: u32,
    /// Confirmations before an escrow payment counts.
    #[serde(default = "one")]
    pub min_confirmations: u32,
    /// The server the operator rents for the market from a hosting provider, before the
    /// story starts; none: the market's machine leaves no hosting records.
    #[serde(default)]
    pub hosting: Option<MarketHosting>,
}

/// The market's server as the operator rents it: through the hosting provider's public API
/// (sign-up, panel login, rental with a payment), so its records are what the operator did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarketHosting {
    /// The hosting provider (a `Hosting` provider).
    pub provider: ProviderId,
    /// The operator's account name at the provider (3–32 characters of `[A-Za-z0-9_-]`).
    pub username: String,
    /// The name given for billing (often not the operator's own).
    pub billing_name: String,
    /// The contact e-mail given at sign-up.
    pub billing_email: String,
    /// How the rent is paid: `darkcoin`, `card`, `bank_transfer`, …
    #[serde(default = "darkcoin")]
    pub payment_method: String,
    /// Monthly rent in the payment's smallest unit (darkcoin units for `darkcoin`, cents otherwise).
    #[serde(default = "rent")]
    pub monthly_rent: u64,
}

fn darkcoin() -> String {
    "darkcoin".into()
}

fn rent() -> u64 {
    2_000_000
}

fn one() -> u32 {
    1
}

/// Tumbler settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MixerSite {
    /// Fee in basis points of each deposit (250 = 2.5 %).
    pub fee_bps: u32,
    /// Shortest delay between a confirmed deposit and its payout.
    pub min_delay: SimDuration,
    /// Longest delay.
    pub max_delay: SimDuration,
    /// Coins the mixer holds from the start (paid by the genesis block), so it can pay out
    /// from other coins than the deposit.
    #[serde(default = "default_float")]
    pub float: Sats,
}

fn default_float() -> Sats {
    Sats(1_000_000_000)
}

/// CoinJoin coordinator settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoinJoinSite {
    /// The value of every mixed output, in units.
    pub denomination: Sats,
    /// A round closes once this many have registered (at the next block).
    pub min_participants: u32,
}

/// How an actor's wallet spends: the habits chain analysis feeds on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Habits {
    /// Receive and take change at one address again and again (careless; the default).
    #[serde(default = "yes_habit")]
    pub reuse_addresses: bool,
    /// Round payments up to two significant digits (so the change output stands out).
    #[serde(default)]
    pub round_amounts: bool,
    /// Spend every coin the wallet holds in each payment (common-input ownership).
    #[serde(default)]
    pub consolidate: bool,
    /// Pay with taproot (BIP86) addresses instead of P2WPKH (BIP84).
    #[serde(default)]
    pub taproot: bool,
    /// Hours of the day (in the actor's own time zone) when the actor is online; a step
    /// due outside them waits for the next active window. Always online when absent.
    #[serde(default)]
    pub active_hours: Option<ActiveHours>,
    /// Favourite phrases, now and then worked into what the actor writes (feedback,
    /// posts, messages, shop texts) — a stylometric trace.
    #[serde(default)]
    pub phrases: Vec<String>,
    /// How the actor writes: quirks applied to every text they write.
    #[serde(default)]
    pub quirks: Vec<WritingQuirk>,
}

/// A daily window of activity, in local hours `from` (inclusive) to `to` (exclusive), 0–24;
/// a window past midnight has `from > to` (e.g. 22 to 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActiveHours {
    /// First active hour (local time).
    pub from: u32,
    /// First hour no longer active (local time).
    pub to: u32,
}

/// Writing habits that make one author's texts recognisable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum WritingQuirk {
    /// Writes everything in lower case.
    Lowercase,
    /// Leaves out apostrophes (`dont`, `im`).
    NoApostrophes,
    /// Ends sentences with `!!` instead of `.`.
    Exclamations,
    /// Trails off with `...` at the end of a text.
    Ellipses,
}

fn yes_habit() -> bool {
    true
}

impl Default for Habits {
    fn default() -> Self {
        Habits {
            reuse_addresses: true,
            round_amounts: false,
            consolidate: false,
            taproot: false,
            active_hours: None,
            phrases: Vec::new(),
            quirks: Vec::new(),
        }
    }
}

/// The darkcoin chain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Coin {
    /// Simulated time between blocks.
    pub block_interval: SimDuration,
    /// Proof-of-work target in compact form (`0x207fffff` is regtest's easiest).
    pub pow_bits: u32,
    /// Block subsidy in units (1 DKC = 100,000,000).
    pub block_reward: Sats,
    /// Blocks before a coinbase output may be spent.
    pub coinbase_maturity: u32,
    /// Fee rate the cast's wallets pay, in units per virtual byte.
    pub fee_rate: u64,
    /// Funds each actor's wallet holds at the start (paid by the genesis block).
    pub initial_funds: Vec<Funding>,
    /// Displayed exchange rate: euro cents per DKC.
    #[serde(default)]
    pub eur_cents_per_coin: u64,
    /// Darkcoin the lab puts in each team's evidence wallet for controlled purchases
    /// (paid from the lab's evidence fund, which the genesis block funds for up to 64
    /// teams); 1 DKC by default.
    #[serde(default = "evidence_funds")]
    pub evidence_funds: Sats,
}

fn evidence_funds() -> Sats {
    Sats(100_000_000)
}

/// Initial funds of one actor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Funding {
    /// The actor whose wallet receives the funds.
    pub actor: ActorId,
    /// Amount in units.
    pub amount: Sats,
}

/// A provider holding records investigators can demand.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// Provider id, unique.
    pub id: ProviderId,
    /// Name shown on its pages and records.
    pub name: String,
    /// What kind of provider it is.
    pub kind: ProviderKind,
    /// Where it is: requests abroad go through international cooperation.
    #[serde(default)]
    pub jurisdiction: Jurisdiction,
    /// How long it keeps records; older ones are gone unless preserved.
    pub retention: SimDuration,
    /// Simulated time it takes to answer a granted order.
    pub response_delay: SimDuration,
    /// A courier's drop-off offices, each at a place on the map (couriers only; the cast
    /// hands parcels in at them with `ShipByCourier`).
    #[serde(default)]
    pub offices: Vec<Office>,
}

/// A courier's drop-off office.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Office {
    /// The office's name, as the cast writes it on the drop-off form, e.g. `"Delfshaven"`.
    pub name: String,
    /// Latitude in decimal degrees (−90 to 90); four decimals are kept.
    pub lat: f64,
    /// Longitude in decimal degrees (−180 to 180); four decimals are kept.
    pub lon: f64,
}

/// Kinds of provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ProviderKind {
    /// A custodial coin exchange with KYC.
    Exchange,
    /// An internet service provider (subscriber of an IP at a time).
    Isp,
    /// An e-mail provider.
    Email,
    /// A hosting provider.
    Hosting,
    /// A courier or postal service.
    Courier,
}

/// Where a provider is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Jurisdiction {
    /// In the investigating team's own country.
    #[default]
    Domestic,
    /// Abroad, in the named country.
    Foreign(String),
}

/// A member of the cast.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// Actor id, unique.
    pub id: ActorId,
    /// What the actor does in the world.
    pub role: Role,
    /// The real person (ground truth: never shown to a team).
    pub identity: Identity,
    /// Pseudonymous personas on sites.
    #[serde(default)]
    pub personas: Vec<Persona>,
    /// What the actor does, when.
    #[serde(default)]
    pub script: Vec<Step>,
    /// OPSEC slips: traces the scenario plants.
    #[serde(default)]
    pub slips: Vec<Slip>,
    /// How the actor reacts to what teams do.
    #[serde(default)]
    pub reactions: Vec<Reaction>,
    /// How the actor's wallet spends.
    #[serde(default)]
    pub habits: Habits,
}

/// Roles in the cast (Interpol's dark-web taxonomy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Role {
    /// Sells on a market.
    Vendor,
    /// Buys on a market.
    Buyer,
    /// Runs a market.
    Operator,
    /// Moves and mixes money.
    Launderer,
    /// Posts on forums.
    ForumRegular,
}

/// A real identity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// Full legal name.
    pub name: String,
    /// Date of birth, `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// Postal address.
    pub address: String,
    /// E-mail address.
    pub email: String,
    /// Phone number.
    pub phone: String,
    /// The IP address of their home connection.
    pub home_ip: String,
    /// Offset of their time zone from UTC, in hours.
    #[serde(default)]
    pub utc_offset_hours: i32,
    /// The internet provider of their home connection: it leases them `home_ip` from the
    /// world's start (its records say who had that IP when).
    #[serde(default)]
    pub isp: Option<ProviderId>,
}

/// A persona: a handle on one site.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Persona {
    /// Persona id, unique across the scenario.
    pub id: PersonaId,
    /// The site the handle lives on.
    pub site: SiteId,
    /// The handle (user name) shown on the site.
    pub handle: String,
}

/// One scheduled step of an actor's script.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Offset from the world's start.
    pub at: SimDuration,
    /// Up to this much random delay, drawn from the actor's seeded stream.
    #[serde(default)]
    pub jitter: SimDuration,
    /// What the actor does.
    pub action: Action,
}

/// Things an actor can do (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Action {
    /// Register the persona on its site.
    Register(PersonaId),
    /// Open a vendor shop for the persona, with a profile text.
    OpenShop {
        /// The vendor persona.
        persona: PersonaId,
        /// The shop's profile text.
        bio: String,
    },
    /// Put goods on sale.
    List {
        /// The vendor persona.
        persona: PersonaId,
        /// The listing.
        listing: ListingSpec,
    },
    /// Order a listing and pay its escrow address.
    Order {
        /// The buyer persona.
        persona: PersonaId,
        /// What to buy.
        listing: ListingId,
        /// How many.
        #[serde(default = "one")]
        quantity: u32,
    },
    /// Mark every paid order of the persona as shipped.
    ShipOrders(PersonaId),
    /// Mark every paid order of the persona as shipped and hand one parcel per order in at
    /// a courier's office, under the actor's real name (the counter checks ID): the
    /// courier's records then tie the office's place to the sender. The tracking number goes
    /// on the order, where the buyer sees it (`ShippedParcel`), and the courier's records of
    /// it name the sender (`ParcelSentBy`).
    ShipByCourier {
        /// The vendor persona.
        persona: PersonaId,
        /// The courier (a `Courier` provider).
        courier: ProviderId,
        /// The office's name, one of the courier's `offices`.
        office: String,
    },
    /// Finalize every shipped order of the persona (releasing escrow) and leave feedback.
    FinalizeOrders {
        /// The buyer persona.
        persona: PersonaId,
        /// Rating 1–5.
        rating: u8,
        /// Feedback text.
        feedback: String,
    },
    /// Open an account at a provider under the actor's real identity (KYC).
    OpenAccount {
        /// The provider (an exchange).
        provider: ProviderId,
        /// User name at the provider.
        username: String,
    },
    /// Start a thread on a forum as the persona (registered there first).
    Post {
        /// The forum persona.
        persona: PersonaId,
        /// The board's slug: `markets`, `opsec` or `offtopic`.
        board: String,
        /// Thread title.
        title: String,
        /// First post.
        body: String,
    },
    /// Write the persona's profile on a social site (registered there first).
    Profile {
        /// The social-site persona.
        persona: PersonaId,
        /// Profile text.
        bio: String,
    },
    /// Publish a paste, signed with a persona's handle or anonymous.
    Paste {
        /// The paste site.
        site: SiteId,
        /// Whose handle signs it (none: anonymous).
        #[serde(default)]
        author: Option<PersonaId>,
        /// Title.
        title: String,
        /// The text.
        body: String,
    },
    /// Send everything the wallet holds through a tumbler, to be paid back later to a fresh
    /// address of the actor's own.
    Tumble {
        /// The mixer site.
        via: SiteId,
    },
    /// Join the next CoinJoin round with every coin the wallet holds.
    CoinJoin {
        /// The coordinator site.
        via: SiteId,
    },
    /// Send everything the actor's wallet holds to a fresh deposit address at a provider.
    CashOut {
        /// The exchange.
        provider: ProviderId,
    },
    /// Reply to every unanswered private message the persona received on its market.
    AnswerMessages(PersonaId),
    /// The market's operator (the site's `operator`, logged in as its persona there)
    /// publishes news on the market.
    Announce {
        /// The operator's persona on the market.
        persona: PersonaId,
        /// Headline.
        title: String,
        /// Text.
        body: String,
    },
    /// The operator bans an account of the market by its handle.
    Ban {
        /// The operator's persona on the market.
        persona: PersonaId,
        /// The handle to ban.
        handle: String,
    },
    /// The operator withdraws the commission the market has earned to the actor's wallet.
    CollectCommission(PersonaId),
    /// The operator's exit scam: every escrow of an order still open (paid, shipped or
    /// disputed) is swept to the actor's wallet through the operator's side of the
    /// market, and the market announces "maintenance".
    ExitScam(PersonaId),
}

/// A listing an actor puts on a market.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListingSpec {
    /// Listing id, unique across the scenario.
    pub id: ListingId,
    /// Title.
    pub title: String,
    /// Category, e.g. `"Drugs/Cannabis"`.
    pub category: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Price per unit in units.
    pub price: Sats,
    /// Country it ships from.
    pub ships_from: String,
    /// Where it ships to.
    pub ships_to: String,
    /// Units in stock.
    pub stock: u32,
}

/// An OPSEC slip: a trace the actor leaves, the fact it reveals and what carries it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Slip {
    /// Slip id, unique.
    pub id: SlipId,
    /// What the slip is.
    pub kind: SlipKind,
}

/// Kinds of slip (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum SlipKind {
    /// The vendor writes their payout address into the shop profile ("direct deals");
    /// reveals `ControlsAddress(persona, address)`; carried by the vendor profile page.
    AddressInProfile(PersonaId),
    /// The actor cashes out to an exchange that holds their real identity; reveals
    /// `DepositAddressOf` and `AccountHolder`; carried by the exchange's records.
    CashOutToKycExchange(ProviderId),
    /// The vendor signs its shop's OpenPGP key with its real e-mail address in the key's user
    /// ID (`handle <identity e-mail>`); reveals `UsesEmail(persona → e-mail)`; carried by
    /// the armoured key on the vendor profile, which any OpenPGP tool reads. The e-mail
    /// provider's records then lead on (sign-up and login IPs).
    EmailInPgpKey(PersonaId),
    /// The actor opens and uses its mailbox at this e-mail provider from home, without Tor;
    /// reveals `LoggedInFrom(e-mail → home IP)`; carried by the provider's login records.
    /// The home line's internet provider (`identity.isp`) then reveals
    /// `IpSubscriber(home IP → identity)`. Without it the mailbox is used over Tor.
    MailboxFromHome(ProviderId),
    /// The vendor uploads its listing photos straight from the phone, GPS position and all:
    /// every listing of the persona gets a photo whose EXIF block carries the camera and the
    /// place it was taken (`lat`, `lon`); reveals `PhotographedAt(listing → place)`; carried
    /// by the listing's photo (`/listing/<id>/photo.jpg`), which exiftool or any EXIF
    /// reader shows. A courier office at that place then leads on (`ParcelDroppedBy`).
    PhotoGps {
        /// The vendor persona whose listing photos carry the position.
        persona: PersonaId,
        /// Latitude of the place the photos were taken, decimal degrees (four decimals kept).
        lat: f64,
        /// Longitude, decimal degrees (four decimals kept).
        lon: f64,
    },
    /// The operator leaves the market's Apache `/server-status` page open (and signs its
    /// error pages): reveals `HostedAt(site → the server's real IP)`; carried by a capture
    /// of `/server-status` on the onion site. The server must be rented (`hosting` on the
    /// market); the hosting provider's records then lead on (`RentedBy`).
    StatusPageLeak(SiteId),
    /// The operator signs up to and logs in to the hosting provider's control panel from
    /// home, without Tor: reveals `LoggedInFrom(hosting account → home IP)`; carried by the
    /// hosting provider's login records (with `RentedBy(server IP → account)`). The home
    /// line's internet provider then reveals `IpSubscriber(home IP → identity)`.
    HostingPanelFromHome(ProviderId),
    /// The operator runs a clearnet host (`host`, e.g. his consultancy's site) on the
    /// market's rented server from the same web template: both serve the same favicon and
    /// TLS certificate. The clearnet search engine crawls the host's fingerprints with its
    /// public IP; a search by the hash of the favicon the onion site serves
    /// (`/.well-known/fingerprints`) names the host and that IP. Reveals `HostedAt(site →
    /// the server's real IP)`; carried by a capture of the search engine's
    /// `/hosts?favicon=<sha256>` page (capture target `FaviconSearch`). The server must be
    /// rented (`hosting` on the market) and the scenario must have a `Search` site.
    SharedFavicon {
        /// The onion market.
        site: SiteId,
        /// The clearnet host name (`<name>.example`).
        host: String,
    },
}

/// A reaction to something a team does: when the trigger is seen, the actor responds (each
/// reaction at most once). The actor notices only through the channels a real vendor has:
/// its market inbox and the forum's public boards, read through their APIs every
/// `tip_offs.check_every` (in its active hours) until the exercise ends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reaction {
    /// What triggers it.
    pub trigger: Trigger,
    /// What the actor does then.
    pub response: ReactionKind,
}

/// Triggers of reactions: what tips an actor off (the rules in `tip_offs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Trigger {
    /// Any tip-off of the persona: a message with one of `tip_offs.words`, a forum warning
    /// naming it, or an odd account writing to it.
    TippedOff(PersonaId),
    /// A private message to the persona (on its market) containing one of these words or
    /// phrases (case-insensitive, whole words); `tip_offs.words` when the list is empty.
    Message(PersonaId, Vec<String>),
    /// A public forum post (thread or reply) that names the persona's handle together with
    /// one of `tip_offs.warning_words`.
    ForumWarning(PersonaId),
    /// An account that behaves oddly towards the persona: it has sent the persona at least
    /// `tip_offs.odd_account_messages` private messages and never ordered from it.
    OddAccount(PersonaId),
}

impl Trigger {
    /// The persona the trigger watches.
    pub fn persona(&self) -> &PersonaId {
        match self {
            Trigger::TippedOff(p) | Trigger::Message(p, _) | Trigger::ForumWarning(p) | Trigger::OddAccount(p) => p,
        }
    }
}

/// Reactions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ReactionKind {
    /// Stop all activity: no later scripted step, no more watching.
    GoDark,
    /// Delete data the actor controls through the market's API: every private message of
    /// its market personas and every listing of their shops.
    WipeData,
    /// Send everything the wallet holds through this mixer (a `Mixer` site), to come back
    /// to a fresh address later: real transactions.
    MoveFunds(SiteId),
    /// The real person leaves for this country: no later scripted step happens, and the
    /// verdict says that an arrest now needs the other country's help.
    LeaveAbroad(String),
}

/// How the cast notices an investigation: the words that give a team away and how often
/// watchful actors (those with reactions) look. Defaults when absent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TipOffs {
    /// Words and phrases that give an investigator away in a private message
    /// (case-insensitive, whole words), for `TippedOff` and `Message` triggers with no words.
    #[serde(default = "tip_off_words")]
    pub words: Vec<String>,
    /// Words that make a forum post naming a handle a public warning.
    #[serde(default = "warning_words")]
    pub warning_words: Vec<String>,
    /// How often a watchful actor reads its inbox and the forum.
    #[serde(default = "check_every")]
    pub check_every: SimDuration,
    /// Messages from one account, with no order from it, that make it an odd account.
    #[serde(default = "odd_account_messages")]
    pub odd_account_messages: u32,
}

impl Default for TipOffs {
    fn default() -> Self {
        TipOffs {
            words: tip_off_words(),
            warning_words: warning_words(),
            check_every: check_every(),
            odd_account_messages: odd_account_messages(),
        }
    }
}

fn tip_off_words() -> Vec<String> {
    [
        "police",
        "undercover",
        "law enforcement",
        "investigation",
        "investigator",
        "officer",
        "detective",
        "warrant",
        "arrest",
        "evidence",
        "real name",
        "who are you",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}
fn warning_words() -> Vec<String> {
    ["police", "cops", "feds", "undercover", "law enforcement", "compromised", "honeypot", "arrested", "warning", "avoid", "scam"]
        .into_iter()
        .map(String::from)
        .collect()
}
fn check_every() -> SimDuration {
    SimDuration::hours(6)
}
fn odd_account_messages() -> u32 {
    3
}

/// Background crowds generated deterministically from the seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Population {
    /// The market the crowd trades on.
    pub market: SiteId,
    /// Background vendors.
    #[serde(default)]
    pub vendors: VendorCrowd,
    /// Background buyers.
    #[serde(default)]
    pub buyers: BuyerCrowd,
    /// Time zones (hours from UTC) the crowd's members are drawn from, evenly; UTC when empty.
    #[serde(default)]
    pub utc_offsets: Vec<i32>,
    /// Local hours the crowd is online (each member's window is shifted by up to an hour).
    #[serde(default)]
    pub active_hours: Option<ActiveHours>,
}

/// How many background vendors there are and how they trade.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorCrowd {
    /// Number of vendors.
    #[serde(default)]
    pub count: u32,
    /// Listings each vendor opens with.
    #[serde(default = "three")]
    pub listings: u32,
    /// Categories listings are drawn from.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Lowest unit price.
    #[serde(default = "min_price")]
    pub min_price: Sats,
    /// Highest unit price.
    #[serde(default = "max_price")]
    pub max_price: Sats,
    /// Units in stock per listing; a vendor restocks a listing that ran low.
    #[serde(default = "stock")]
    pub stock: u32,
    /// How often (on average) a vendor checks in: ships, restocks, answers messages.
    #[serde(default = "check_in")]
    pub check_in_every: SimDuration,
}

impl Default for VendorCrowd {
    fn default() -> Self {
        VendorCrowd {
            count: 0,
            listings: three(),
            categories: Vec::new(),
            min_price: min_price(),
            max_price: max_price(),
            stock: stock(),
            check_in_every: check_in(),
        }
    }
}

/// How many background buyers there are and how they buy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyerCrowd {
    /// Number of buyers.
    #[serde(default)]
    pub count: u32,
    /// Mean time between one buyer's orders (exponentially distributed).
    #[serde(default = "order_every")]
    pub order_every: SimDuration,
    /// Largest quantity of one order (uniform from 1).
    #[serde(default = "one")]
    pub max_quantity: u32,
    /// Per cent of delivered orders the buyer disputes instead of finalizing.
    #[serde(default)]
    pub dispute_percent: u32,
    /// Relative weights of 1 to 5 stars in feedback (five numbers).
    #[serde(default = "ratings")]
    pub ratings: Vec<u32>,
    /// Darkcoin each buyer starts with (paid by the genesis block).
    #[serde(default = "funds")]
    pub funds: Sats,
    /// Feedback texts buyers choose from (a stock line when empty).
    #[serde(default)]
    pub feedback: Vec<String>,
}

impl Default for BuyerCrowd {
    fn default() -> Self {
        BuyerCrowd {
            count: 0,
            order_every: order_every(),
            max_quantity: one(),
            dispute_percent: 0,
            ratings: ratings(),
            funds: funds(),
            feedback: Vec::new(),
        }
    }
}

fn three() -> u32 {
    3
}
fn min_price() -> Sats {
    Sats(100_000)
}
fn max_price() -> Sats {
    Sats(5_000_000)
}
fn stock() -> u32 {
    50
}
fn check_in() -> SimDuration {
    SimDuration::hours(4)
}
fn order_every() -> SimDuration {
    SimDuration::days(2)
}
fn ratings() -> Vec<u32> {
    vec![2, 1, 3, 10, 30]
}
fn funds() -> Sats {
    Sats(1_000_000_000)
}

/// Legal process rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Legal {
    /// One rule per request type (and provider kind).
    pub rules: Vec<LegalRule>,
}

/// When the simulated judge grants a request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LegalRule {
    /// The request type.
    pub request: RequestKind,
    /// The provider kind it applies to (`None`: any).
    #[serde(default)]
    pub provider_kind: Option<ProviderKind>,
    /// What the cited evidence must show.
    pub grounds: Grounds,
    /// Simulated time the judge takes to rule.
    pub ruling_delay: SimDuration,
}

/// Types of legal request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum RequestKind {
    /// Order a provider to keep records.
    Preservation,
    /// Order a provider to hand over records.
    ProductionOrder,
    /// Search and seize a server or premises.
    SearchWarrant,
    /// Authorise an undercover purchase.
    UndercoverAuthorisation,
    /// Request through international cooperation.
    MutualLegalAssistance,
    /// Search and seizure of a server abroad, asked through international cooperation
    /// (mutual legal assistance, announced through the 24/7 contact point): the foreign
    /// authorities execute it, and the image is ready for the team's forensic examiner
    /// after the provider's response delay. A domestic `SearchWarrant` does not reach a
    /// server abroad.
    SearchAbroad,
}

/// Grounds a request must show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Grounds {
    /// No grounds needed.
    None,
    /// The cited evidence must reveal a chain of at most `max_hops` facts from a persona
    /// that offers goods on a market to the request's target.
    LinkToOffence {
        /// Longest chain accepted.
        max_hops: u32,
    },
}

/// A charge and its elements.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Charge {
    /// Charge id, unique.
    pub id: ChargeId,
    /// Title, e.g. "Supplying controlled drugs".
    pub title: String,
    /// The actor who committed it (ground truth, lab only).
    pub offender: ActorId,
    /// What must be proven.
    pub elements: Vec<Element>,
}

/// One element of a charge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Element {
    /// Element id, unique within the charge.
    pub id: ElementId,
    /// What it means, for the verdict.
    pub description: String,
    /// The facts that prove it.
    pub proven_by: Proof,
}

/// What proves an element, in terms of facts revealed by cited evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Proof {
    /// A fact of this kind about the persona.
    Fact {
        /// The fact kind.
        kind: FactKind,
        /// The persona it must be about.
        persona: PersonaId,
    },
    /// A chain of facts from the persona to an entity of this kind.
    Link {
        /// Where the chain starts.
        persona: PersonaId,
        /// Kind of entity it must reach.
        to: EntityKind,
        /// If reaching an account: at this provider.
        #[serde(default)]
        provider: Option<ProviderId>,
    },
}

/// The prosecutor's scoring rubric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    /// Points for each lawful investigative step (evidence obtained, request granted).
    pub step: i64,
    /// Most step points that count.
    pub max_steps: u32,
    /// Points for each persona correctly attributed to its real identity.
    pub attribution: i64,
    /// Points for each element proven.
    pub element: i64,
    /// Share of an element's points when only circumstantial evidence proves it (percent).
    pub circumstantial_percent: u32,
    /// Points (negative) for accusing the wrong person.
    pub wrong_accusation: i64,
    /// Points (negative) for each inadmissible item cited.
    pub inadmissible: i64,
    /// Points (negative) for each refused legal request.
    pub refused_request: i64,
    /// Points (negative) for each tip-off the team caused: a member of the cast noticed the
    /// investigation through one of the team's undercover accounts (see `tip_offs`); 0 by
    /// default.
    #[serde(default)]
    pub tip_off: i64,
    /// What a case filed after the time budget costs (`world_duration` + `time_budget`
    /// after `start`); by default lateness costs nothing.
    #[serde(default)]
    pub lateness: Lateness,
}

/// The lateness penalty: a case filed after the investigation's time budget loses points for
/// every simulated hour, or part of one, it is late — as a court's deadline does, and as
/// competitions charge late reports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lateness {
    /// Points (negative) for each started simulated hour past the deadline; 0: none.
    #[serde(default)]
    pub per_hour: i64,
    /// Most points (negative) lateness can cost in all; 0: no limit.
    #[serde(default)]
    pub max: i64,
}

/// An instructor inject.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Inject {
    /// Offset from the world's start.
    pub at: SimDuration,
    /// The message released.
    pub message: String,
}

/// A hint a team may take.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Hint {
    /// Hint id, unique.
    pub id: HintId,
    /// The hint.
    pub text: String,
    /// Points it costs.
    pub cost: i64,
}

/// What may vary between variants of a scenario.
///
/// Variant `K` (1 ≤ K ≤ `count`) is derived deterministically from K: the same cast,
/// scripts, slips, charges and legal rules — the same structure and difficulty — with the
/// aspects switched on here redrawn, so that teams in a challenge or successive classes
/// cannot share answers. Variant 0 is the scenario as written. `darklab check` solves every
/// declared variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Variants {
    /// How many variants are declared (at most 100).
    pub count: u32,
    /// Redraw every identity's real name (and e-mail) from a built-in pool, rewritten
    /// everywhere it appears (the solution's suspects, bios, injects, hints).
    #[serde(default = "yes")]
    pub names: bool,
    /// Redraw every persona's handle from a built-in pool, rewritten everywhere it appears
    /// (the solution's captures, injects, hints, bios, feedback).
    #[serde(default = "yes")]
    pub handles: bool,
    /// Scale each listing's price and each actor's initial funds within ±20 %; a buyer's
    /// funds never shrink relative to what it buys, so every buyer can still pay.
    #[serde(default = "yes")]
    pub amounts: bool,
    /// Move each scripted step with a jitter to a point inside its jitter window (the window
    /// itself is unchanged, so every check on times still holds).
    #[serde(default = "yes")]
    pub timings: bool,
    /// Which slip carries which fact: for each entry, variant K gives the actor the slips
    /// of option `K mod (number of options)` instead of its own (option 0 should be the
    /// actor's `slips`). Listing the options of two actors in opposite orders swaps their
    /// traces between variants while the case keeps its structure and difficulty. When a
    /// variant moves slips, its reference solution is the solver's path.
    #[serde(default)]
    pub slips: Vec<SlipOptions>,
}

/// Alternative slip sets of one actor, one per variant in turn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlipOptions {
    /// The actor whose slips vary.
    pub actor: ActorId,
    /// The slip sets; at least two.
    pub options: Vec<Vec<Slip>>,
}

fn yes() -> bool {
    true
}

/// One step of the reference solution, as a team would take it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum SolutionStep {
    /// Capture something as evidence, labelled for later steps.
    Capture {
        /// Label of the evidence.
        label: EvidenceLabel,
        /// What to capture.
        target: CaptureTarget,
    },
    /// Ask a judge for legal process against a provider; the answer becomes evidence.
    Request {
        /// Label of the request.
        label: RequestLabel,
        /// The request type.
        kind: RequestKind,
        /// The provider.
        provider: ProviderId,
        /// What the request is about.
        target: AddressRef,
        /// Evidence cited as grounds.
        grounds: Vec<EvidenceLabel>,
        /// Label of the provider's answer.
        response: EvidenceLabel,
    },
    /// File the case.
    File(CaseSpec),
}

/// What a capture fetches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum CaptureTarget {
    /// A vendor's profile page on a market.
    VendorProfile {
        /// The market.
        site: SiteId,
        /// The vendor's handle as seen on the market.
        handle: String,
    },
    /// The explorer's page of an address.
    ExplorerAddress(AddressRef),
    /// The explorer's page of the transaction that spends from an address.
    ExplorerSpend(AddressRef),
    /// The photo of a vendor's first listing that has one (the JPEG file itself, EXIF and
    /// all).
    ListingPhoto {
        /// The market.
        site: SiteId,
        /// The vendor's handle as seen on the market.
        handle: String,
    },
    /// A market's `/server-status` page (open only where a `StatusPageLeak` slip left it so).
    ServerStatus {
        /// The market.
        site: SiteId,
    },
    /// A market's news page: each post names its author, the operator's persona.
    MarketNews {
        /// The market.
        site: SiteId,
    },
    /// A clearnet search engine's hosts serving the favicon the market serves (its hash
    /// read from the market's `/.well-known/fingerprints`): `/hosts?favicon=<sha256>`.
    FaviconSearch {
        /// The market.
        site: SiteId,
        /// The search engine (a `Search` site).
        engine: SiteId,
    },
}

/// An address (coin, e-mail or IP) a team has seen in earlier evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum AddressRef {
    /// The first address that appears in the evidence's content.
    FirstIn(EvidenceLabel),
    /// The address a transaction in the evidence pays (its first output not back to
    /// the spender).
    PaidIn(EvidenceLabel),
    /// The first e-mail address the evidence shows (in a captured page, or in the user ID
    /// of an OpenPGP key it carries).
    EmailIn(EvidenceLabel),
    /// The first IP address the evidence shows (e.g. a login in a provider's records).
    IpIn(EvidenceLabel),
    /// The place (`"<lat>,<lon>"`) where the photo in the evidence was taken, from its EXIF
    /// GPS position.
    PlaceIn(EvidenceLabel),
    /// The payout address of a vendor in a seized server's image, read through the lab's
    /// query of its `vendors` table.
    SeizedPayout {
        /// The image (the answer to a search warrant).
        image: EvidenceLabel,
        /// The vendor's handle on the seized market.
        handle: String,
    },
}

/// The case a team files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseSpec {
    /// One entry per suspect.
    pub suspects: Vec<SuspectSpec>,
}

/// One suspect of a case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspectSpec {
    /// The real name the team claims.
    pub name: String,
    /// Personas the team attributes to them.
    pub personas: Vec<PersonaId>,
    /// Evidence that links the personas to the name.
    pub attribution: Vec<EvidenceLabel>,
    /// Charges and the evidence for each element.
    pub charges: Vec<ChargeSpec>,
}

/// One charge of a suspect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChargeSpec {
    /// The charge.
    pub charge: ChargeId,
    /// Evidence cited per element.
    pub elements: Vec<ElementSpec>,
}

/// Evidence cited for one element.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ElementSpec {
    /// The element.
    pub element: ElementId,
    /// The evidence.
    pub evidence: Vec<EvidenceLabel>,
}
