//! The demo's partners: about 150 organisations covering every partner group. The member States, EU
//! services, UN entities and banks carry IATI identifiers of the kind real publishers use, so that the
//! partner-group and roll-up rules meet realistic input; every name says "(synthetic)", because the money
//! attached to them is made up. Companies, foundations, unions and NGOs are invented outright.

use coopfolio_core::partner_group::{PartnerGroup, PartnerGroupRules};
use coopfolio_core::partnership::Partner;
use coopfolio_core::reference::Names;

use crate::rng::Rng;

/// How a partner takes part in the funding plan of the agreements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FunderKind {
    /// One of the largest contributors, with its own target in every biennium (`rank` 0 is the largest).
    Top { rank: usize },
    /// A UN entity: its share of the United Nations' target.
    UnitedNations { weight: u64 },
    /// A European Commission service: its share of the European Union's target.
    EuropeanUnion { weight: u64 },
    /// A government that funds the organisation's work in its own country (domestic trust funds).
    Domestic,
    /// Any other partner that may fund agreements from the shared remainder.
    Other,
}

/// A partner with what the generator needs to know about it.
#[derive(Debug, Clone)]
pub(crate) struct PartnerProfile {
    pub(crate) partner: Partner,
    /// The group the partner is meant to have, which the rules must derive or an override must set.
    pub(crate) group: PartnerGroup,
    pub(crate) kind: FunderKind,
    /// The currency its agreements are usually signed in.
    pub(crate) currency: &'static str,
}

struct Spec {
    key: &'static str,
    names: [&'static str; 3],
    iati_ref: Option<&'static str>,
    organisation_type: &'static str,
    country: Option<&'static str>,
    group: PartnerGroup,
    kind: FunderKind,
    currency: &'static str,
}

use FunderKind::*;
use PartnerGroup as G;

// A table row builder: a struct literal per row would triple the length of the table.
#[allow(clippy::too_many_arguments)]
const fn spec(
    key: &'static str,
    names: [&'static str; 3],
    iati_ref: Option<&'static str>,
    organisation_type: &'static str,
    country: Option<&'static str>,
    group: PartnerGroup,
    kind: FunderKind,
    currency: &'static str,
) -> Spec {
    Spec {
        key,
        names,
        iati_ref,
        organisation_type,
        country,
        group,
        kind,
        currency,
    }
}

/// The partners modelled on real funders. The order of the first nine is the order of their targets.
#[rustfmt::skip]
const CURATED: &[Spec] = &[
    spec("de-bmz", ["Germany, Federal Ministry for Economic Cooperation and Development", "Allemagne, ministère fédéral de la Coopération économique et du Développement", "Alemania, Ministerio Federal de Cooperación Económica y Desarrollo"], Some("DE-1"), "10", Some("DE"), G::Government, Top { rank: 0 }, "EUR"),
    spec("us-usaid", ["United States Agency for International Development", "Agence des États-Unis pour le développement international", "Agencia de los Estados Unidos para el Desarrollo Internacional"], Some("US-GOV-1"), "10", Some("US"), G::Government, Top { rank: 2 }, "USD"),
    spec("nl-mfa", ["Netherlands, Ministry of Foreign Affairs", "Pays-Bas, ministère des Affaires étrangères", "Países Bajos, Ministerio de Asuntos Exteriores"], Some("XM-DAC-7"), "10", Some("NL"), G::Government, Top { rank: 3 }, "EUR"),
    spec("gb-fcdo", ["United Kingdom, Foreign, Commonwealth and Development Office", "Royaume-Uni, ministère des Affaires étrangères, du Commonwealth et du Développement", "Reino Unido, Ministerio de Asuntos Exteriores, Commonwealth y Desarrollo"], Some("GB-GOV-1"), "10", Some("GB"), G::Government, Top { rank: 4 }, "GBP"),
    spec("no-norad", ["Norway, Norwegian Agency for Development Cooperation", "Norvège, Agence norvégienne de coopération pour le développement", "Noruega, Agencia Noruega de Cooperación para el Desarrollo"], Some("NO-BRC-971277882"), "10", Some("NO"), G::Government, Top { rank: 6 }, "NOK"),
    spec("se-sida", ["Sweden, Swedish International Development Cooperation Agency", "Suède, Agence suédoise de coopération internationale au développement", "Suecia, Agencia Sueca de Cooperación Internacional para el Desarrollo"], Some("SE-0"), "10", Some("SE"), G::Government, Top { rank: 7 }, "SEK"),
    spec("ch-sdc", ["Switzerland, Swiss Agency for Development and Cooperation", "Suisse, Direction du développement et de la coopération", "Suiza, Agencia Suiza para el Desarrollo y la Cooperación"], Some("CH-4"), "10", Some("CH"), G::Government, Top { rank: 8 }, "CHF"),
    spec("kr-moel", ["Republic of Korea, Ministry of Employment and Labor", "République de Corée, ministère de l'Emploi et du Travail", "República de Corea, Ministerio de Empleo y Trabajo"], Some("KR-GOV-010"), "10", Some("KR"), G::Government, Other, "KRW"),
    spec("au-dfat", ["Australia, Department of Foreign Affairs and Trade", "Australie, ministère des Affaires étrangères et du Commerce", "Australia, Departamento de Asuntos Exteriores y Comercio"], Some("AU-5"), "10", Some("AU"), G::Government, Other, "AUD"),
    spec("fr-afd", ["France, French Development Agency", "France, Agence française de développement", "Francia, Agencia Francesa de Desarrollo"], Some("FR-3"), "10", Some("FR"), G::Government, Other, "EUR"),
    spec("ca-gac", ["Canada, Global Affairs Canada", "Canada, Affaires mondiales Canada", "Canadá, Asuntos Mundiales Canadá"], Some("CA-3"), "10", Some("CA"), G::Government, Other, "CAD"),
    spec("jp-mofa", ["Japan, Ministry of Foreign Affairs", "Japon, ministère des Affaires étrangères", "Japón, Ministerio de Asuntos Exteriores"], Some("XM-DAC-701-1"), "10", Some("JP"), G::Government, Other, "JPY"),
    spec("it-aics", ["Italy, Italian Agency for Development Cooperation", "Italie, Agence italienne de coopération au développement", "Italia, Agencia Italiana de Cooperación para el Desarrollo"], Some("XM-DAC-6-4"), "10", Some("IT"), G::Government, Other, "EUR"),
    spec("be-dgd", ["Belgium, Directorate-General for Development Cooperation", "Belgique, Direction générale Coopération au développement", "Bélgica, Dirección General de Cooperación al Desarrollo"], Some("XM-DAC-2-10"), "10", Some("BE"), G::Government, Other, "EUR"),
    spec("dk-mfa", ["Denmark, Ministry of Foreign Affairs", "Danemark, ministère des Affaires étrangères", "Dinamarca, Ministerio de Asuntos Exteriores"], Some("XM-DAC-3-1"), "10", Some("DK"), G::Government, Other, "DKK"),
    spec("ie-irishaid", ["Ireland, Irish Aid", "Irlande, Irish Aid", "Irlanda, Irish Aid"], Some("XM-DAC-21-1"), "10", Some("IE"), G::Government, Other, "EUR"),
    spec("fi-mfa", ["Finland, Ministry for Foreign Affairs", "Finlande, ministère des Affaires étrangères", "Finlandia, Ministerio de Asuntos Exteriores"], Some("FI-3"), "10", Some("FI"), G::Government, Other, "EUR"),
    spec("es-aecid", ["Spain, Spanish Agency for International Development Cooperation", "Espagne, Agence espagnole de coopération internationale pour le développement", "España, Agencia Española de Cooperación Internacional para el Desarrollo"], Some("ES-DIR3-E04585801"), "10", Some("ES"), G::Government, Other, "EUR"),
    spec("nz-mfat", ["New Zealand, Ministry of Foreign Affairs and Trade", "Nouvelle-Zélande, ministère des Affaires étrangères et du Commerce", "Nueva Zelandia, Ministerio de Relaciones Exteriores y Comercio"], Some("NZ-1"), "10", Some("NZ"), G::Government, Other, "NZD"),
    spec("lu-mae", ["Luxembourg, Ministry of Foreign and European Affairs", "Luxembourg, ministère des Affaires étrangères et européennes", "Luxemburgo, Ministerio de Asuntos Exteriores y Europeos"], Some("XM-DAC-22-1"), "10", Some("LU"), G::Government, Other, "EUR"),
    spec("pt-camoes", ["Portugal, Camões Institute for Cooperation and Language", "Portugal, Institut Camões de la coopération et de la langue", "Portugal, Instituto Camões de Cooperación y de la Lengua"], Some("XM-DAC-9-1"), "10", Some("PT"), G::Government, Other, "EUR"),
    spec("at-ada", ["Austria, Austrian Development Agency", "Autriche, Agence autrichienne de développement", "Austria, Agencia Austríaca de Desarrollo"], Some("XM-DAC-1-2"), "15", Some("AT"), G::Government, Other, "EUR"),
    spec("flanders", ["Government of Flanders, Department of Foreign Affairs", "Gouvernement de la Flandre, département des Affaires étrangères", "Gobierno de Flandes, Departamento de Asuntos Exteriores"], None, "11", Some("BE"), G::Government, Other, "EUR"),
    spec("wallonie-bruxelles", ["Wallonia-Brussels International", "Wallonie-Bruxelles International", "Valonia-Bruselas Internacional"], None, "11", Some("BE"), G::Government, Other, "EUR"),
    // Governments of the Global South that fund the organisation's work at home.
    spec("br-mte", ["Brazil, Ministry of Labour and Employment", "Brésil, ministère du Travail et de l'Emploi", "Brasil, Ministerio de Trabajo y Empleo"], None, "10", Some("BR"), G::Government, Domestic, "BRL"),
    spec("ar-mteyss", ["Argentina, Ministry of Labour, Employment and Social Security", "Argentine, ministère du Travail, de l'Emploi et de la Sécurité sociale", "Argentina, Ministerio de Trabajo, Empleo y Seguridad Social"], None, "10", Some("AR"), G::Government, Domestic, "USD"),
    spec("pe-mtpe", ["Peru, Ministry of Labour and Employment Promotion", "Pérou, ministère du Travail et de la Promotion de l'emploi", "Perú, Ministerio de Trabajo y Promoción del Empleo"], None, "10", Some("PE"), G::Government, Domestic, "PEN"),
    spec("co-mintrabajo", ["Colombia, Ministry of Labour", "Colombie, ministère du Travail", "Colombia, Ministerio del Trabajo"], None, "10", Some("CO"), G::Government, Domestic, "USD"),
    spec("pa-mitradel", ["Panama, Ministry of Labour and Workforce Development", "Panama, ministère du Travail et du Développement de la main-d'œuvre", "Panamá, Ministerio de Trabajo y Desarrollo Laboral"], None, "10", Some("PA"), G::Government, Domestic, "USD"),
    spec("za-del", ["South Africa, Department of Employment and Labour", "Afrique du Sud, département de l'Emploi et du Travail", "Sudáfrica, Departamento de Empleo y Trabajo"], None, "10", Some("ZA"), G::Government, Domestic, "ZAR"),
    spec("sa-hrsd", ["Saudi Arabia, Ministry of Human Resources and Social Development", "Arabie saoudite, ministère des Ressources humaines et du Développement social", "Arabia Saudita, Ministerio de Recursos Humanos y Desarrollo Social"], None, "10", Some("SA"), G::Government, Domestic, "SAR"),
    spec("qa-mol", ["Qatar, Ministry of Labour", "Qatar, ministère du Travail", "Qatar, Ministerio de Trabajo"], None, "10", Some("QA"), G::Government, Domestic, "QAR"),
    spec("kw-pam", ["Kuwait, Public Authority for Manpower", "Koweït, Autorité publique de la main-d'œuvre", "Kuwait, Autoridad Pública de Mano de Obra"], None, "10", Some("KW"), G::Government, Domestic, "KWD"),
    spec("in-mole", ["India, Ministry of Labour and Employment", "Inde, ministère du Travail et de l'Emploi", "India, Ministerio de Trabajo y Empleo"], None, "10", Some("IN"), G::Government, Domestic, "INR"),
    spec("id-kemnaker", ["Indonesia, Ministry of Manpower", "Indonésie, ministère de la Main-d'œuvre", "Indonesia, Ministerio de Mano de Obra"], None, "10", Some("ID"), G::Government, Domestic, "USD"),
    spec("cn-mohrss", ["China, Ministry of Human Resources and Social Security", "Chine, ministère des Ressources humaines et de la Sécurité sociale", "China, Ministerio de Recursos Humanos y Seguridad Social"], None, "10", Some("CN"), G::Government, Domestic, "CNY"),
    spec("ph-dole", ["Philippines, Department of Labor and Employment", "Philippines, département du Travail et de l'Emploi", "Filipinas, Departamento de Trabajo y Empleo"], None, "10", Some("PH"), G::Government, Domestic, "PHP"),
    spec("bd-mole", ["Bangladesh, Ministry of Labour and Employment", "Bangladesh, ministère du Travail et de l'Emploi", "Bangladesh, Ministerio de Trabajo y Empleo"], None, "10", Some("BD"), G::Government, Domestic, "USD"),
    spec("ma-mie", ["Morocco, Ministry of Economic Inclusion, Small Business, Employment and Skills", "Maroc, ministère de l'Inclusion économique, de la Petite entreprise, de l'Emploi et des Compétences", "Marruecos, Ministerio de Inclusión Económica, Pequeña Empresa, Empleo y Competencias"], None, "10", Some("MA"), G::Government, Domestic, "USD"),
    spec("ng-flme", ["Nigeria, Federal Ministry of Labour and Employment", "Nigéria, ministère fédéral du Travail et de l'Emploi", "Nigeria, Ministerio Federal de Trabajo y Empleo"], None, "10", Some("NG"), G::Government, Domestic, "USD"),
    spec("cl-mintrab", ["Chile, Ministry of Labour and Social Security", "Chili, ministère du Travail et de la Prévoyance sociale", "Chile, Ministerio del Trabajo y Previsión Social"], None, "10", Some("CL"), G::Government, Domestic, "CLP"),
    spec("th-mol", ["Thailand, Ministry of Labour", "Thaïlande, ministère du Travail", "Tailandia, Ministerio de Trabajo"], None, "10", Some("TH"), G::Government, Domestic, "THB"),
    // The European Commission's services roll up into the European Union.
    spec("eu-intpa", ["European Commission, Directorate-General for International Partnerships", "Commission européenne, direction générale des partenariats internationaux", "Comisión Europea, Dirección General de Asociaciones Internacionales"], Some("XI-IATI-EC_INTPA"), "15", None, G::EuropeanUnion, EuropeanUnion { weight: 55 }, "EUR"),
    spec("eu-near", ["European Commission, Directorate-General for Neighbourhood and Enlargement Negotiations", "Commission européenne, direction générale du voisinage et des négociations d'élargissement", "Comisión Europea, Dirección General de Vecindad y Negociaciones de Ampliación"], Some("XI-IATI-EC_NEAR"), "15", None, G::EuropeanUnion, EuropeanUnion { weight: 25 }, "EUR"),
    spec("eu-echo", ["European Commission, Directorate-General for European Civil Protection and Humanitarian Aid Operations", "Commission européenne, direction générale de la protection civile et des opérations d'aide humanitaire européennes", "Comisión Europea, Dirección General de Protección Civil y Operaciones de Ayuda Humanitaria Europeas"], Some("XI-IATI-EC_ECHO"), "15", None, G::EuropeanUnion, EuropeanUnion { weight: 12 }, "EUR"),
    spec("eu-fpi", ["European Commission, Service for Foreign Policy Instruments", "Commission européenne, service des instruments de politique étrangère", "Comisión Europea, Servicio de Instrumentos de Política Exterior"], Some("XI-IATI-EC_FPI"), "15", None, G::EuropeanUnion, EuropeanUnion { weight: 8 }, "EUR"),
    // UN entities roll up into the United Nations.
    spec("un-undp", ["United Nations Development Programme", "Programme des Nations Unies pour le développement", "Programa de las Naciones Unidas para el Desarrollo"], Some("XM-DAC-41114"), "40", None, G::UnitedNations, UnitedNations { weight: 22 }, "USD"),
    spec("un-mptf", ["UN Multi-Partner Trust Fund Office", "Bureau des fonds d'affectation spéciale pluripartenaires des Nations Unies", "Oficina de los Fondos Fiduciarios de Asociados Múltiples de las Naciones Unidas"], Some("XI-IATI-UNPF"), "40", None, G::UnitedNations, UnitedNations { weight: 30 }, "USD"),
    spec("un-unicef", ["United Nations Children's Fund", "Fonds des Nations Unies pour l'enfance", "Fondo de las Naciones Unidas para la Infancia"], Some("XM-DAC-41122"), "40", None, G::UnitedNations, UnitedNations { weight: 10 }, "USD"),
    spec("un-fao", ["Food and Agriculture Organization of the United Nations", "Organisation des Nations Unies pour l'alimentation et l'agriculture", "Organización de las Naciones Unidas para la Alimentación y la Agricultura"], Some("XM-DAC-41301"), "40", None, G::UnitedNations, UnitedNations { weight: 6 }, "USD"),
    spec("un-unesco", ["United Nations Educational, Scientific and Cultural Organization", "Organisation des Nations Unies pour l'éducation, la science et la culture", "Organización de las Naciones Unidas para la Educación, la Ciencia y la Cultura"], Some("XM-DAC-41304"), "40", None, G::UnitedNations, UnitedNations { weight: 4 }, "USD"),
    spec("un-unido", ["United Nations Industrial Development Organization", "Organisation des Nations Unies pour le développement industriel", "Organización de las Naciones Unidas para el Desarrollo Industrial"], Some("XM-DAC-41123"), "40", None, G::UnitedNations, UnitedNations { weight: 4 }, "USD"),
    spec("un-who", ["World Health Organization", "Organisation mondiale de la Santé", "Organización Mundial de la Salud"], Some("XM-DAC-928"), "40", None, G::UnitedNations, UnitedNations { weight: 4 }, "USD"),
    spec("un-cerf", ["Central Emergency Response Fund", "Fonds central pour les interventions d'urgence", "Fondo Central para la Acción en Casos de Emergencia"], Some("XM-OCHA-CERF"), "40", None, G::UnitedNations, UnitedNations { weight: 5 }, "USD"),
    spec("un-unhcr", ["Office of the United Nations High Commissioner for Refugees", "Haut-Commissariat des Nations Unies pour les réfugiés", "Oficina del Alto Comisionado de las Naciones Unidas para los Refugiados"], Some("XM-DAC-41121"), "40", None, G::UnitedNations, UnitedNations { weight: 6 }, "USD"),
    spec("un-unwomen", ["UN Women", "ONU Femmes", "ONU Mujeres"], Some("XM-DAC-41146"), "40", None, G::UnitedNations, UnitedNations { weight: 4 }, "USD"),
    spec("un-unfpa", ["United Nations Population Fund", "Fonds des Nations Unies pour la population", "Fondo de Población de las Naciones Unidas"], Some("XM-DAC-41119"), "40", None, G::UnitedNations, UnitedNations { weight: 2 }, "USD"),
    spec("un-wfp", ["World Food Programme", "Programme alimentaire mondial", "Programa Mundial de Alimentos"], Some("XM-DAC-41140"), "40", None, G::UnitedNations, UnitedNations { weight: 2 }, "USD"),
    spec("un-iom", ["International Organization for Migration", "Organisation internationale pour les migrations", "Organización Internacional para las Migraciones"], Some("XM-DAC-47066"), "40", None, G::UnitedNations, UnitedNations { weight: 4 }, "USD"),
    spec("un-unops", ["United Nations Office for Project Services", "Bureau des Nations Unies pour les services d'appui aux projets", "Oficina de las Naciones Unidas de Servicios para Proyectos"], Some("XM-DAC-41AAA"), "40", None, G::UnitedNations, UnitedNations { weight: 3 }, "USD"),
    // Banks and funds.
    spec("ifi-worldbank", ["World Bank", "Banque mondiale", "Banco Mundial"], Some("XM-DAC-44000"), "40", None, G::Ifi, Other, "USD"),
    spec("ifi-afdb", ["African Development Bank", "Banque africaine de développement", "Banco Africano de Desarrollo"], Some("XM-DAC-46002"), "40", None, G::Ifi, Other, "USD"),
    spec("ifi-asdb", ["Asian Development Bank", "Banque asiatique de développement", "Banco Asiático de Desarrollo"], Some("XM-DAC-46004"), "40", None, G::Ifi, Other, "USD"),
    spec("ifi-iadb", ["Inter-American Development Bank", "Banque interaméricaine de développement", "Banco Interamericano de Desarrollo"], Some("XI-IATI-IADB"), "40", None, G::Ifi, Other, "USD"),
    spec("ifi-ebrd", ["European Bank for Reconstruction and Development", "Banque européenne pour la reconstruction et le développement", "Banco Europeo de Reconstrucción y Desarrollo"], Some("XI-IATI-EBRD"), "40", None, G::Ifi, Other, "EUR"),
    spec("ifi-ifc", ["International Finance Corporation", "Société financière internationale", "Corporación Financiera Internacional"], Some("XM-DAC-903"), "40", None, G::Ifi, Other, "USD"),
    spec("ifi-wbtf", ["World Bank trust funds", "Fonds fiduciaires de la Banque mondiale", "Fondos fiduciarios del Banco Mundial"], Some("XI-IATI-WBTF"), "40", None, G::Ifi, Other, "USD"),
    // Other intergovernmental organisations.
    spec("igo-commonwealth", ["Commonwealth Secretariat", "Secrétariat du Commonwealth", "Secretaría del Commonwealth"], Some("XI-IATI-CWSEC"), "40", None, G::Intergovernmental, Other, "GBP"),
    spec("igo-globalfund", ["Global Fund to Fight AIDS, Tuberculosis and Malaria", "Fonds mondial de lutte contre le sida, la tuberculose et le paludisme", "Fondo Mundial de Lucha contra el Sida, la Tuberculosis y la Malaria"], Some("XM-DAC-47045"), "40", None, G::Intergovernmental, Other, "USD"),
    spec("igo-auc", ["African Union Commission", "Commission de l'Union africaine", "Comisión de la Unión Africana"], None, "40", Some("ET"), G::Intergovernmental, Other, "USD"),
    spec("igo-ecowas", ["Economic Community of West African States Commission", "Commission de la Communauté économique des États de l'Afrique de l'Ouest", "Comisión de la Comunidad Económica de los Estados de África Occidental"], None, "40", Some("NG"), G::Intergovernmental, Other, "USD"),
    spec("igo-isdb", ["Islamic Solidarity Fund for Development", "Fonds de solidarité islamique pour le développement", "Fondo de Solidaridad Islámica para el Desarrollo"], None, "40", Some("SA"), G::Intergovernmental, Other, "USD"),
    // Social partners: two with identifiers the rules list, the rest set by hand (their IATI type says NGO).
    spec("sp-mondiaal-fnv", ["Mondiaal FNV", "Mondiaal FNV", "Mondiaal FNV"], Some("NL-KVK-41177601"), "21", Some("NL"), G::SocialPartner, Other, "EUR"),
    spec("sp-decp", ["Dutch Employers' Cooperation Programme", "Programme de coopération des employeurs néerlandais", "Programa de Cooperación de Empleadores Neerlandeses"], Some("NL-KVK-27284008"), "22", Some("NL"), G::SocialPartner, Other, "EUR"),
];

/// Invented partners by group: how many, their OrganisationType codes, and name parts.
struct Invented {
    group: PartnerGroup,
    count: usize,
    types: &'static [&'static str],
    key_prefix: &'static str,
    /// [en, fr, es] templates; `{}` is replaced by a made-up proper name.
    templates: &'static [[&'static str; 3]],
}

#[rustfmt::skip]
const INVENTED: &[Invented] = &[
    Invented { group: G::PrivateSector, count: 18, types: &["71", "70", "30", "72"], key_prefix: "ps", templates: &[
        ["{} Apparel Group", "Groupe d'habillement {}", "Grupo de Confección {}"],
        ["{} Mining Company", "Compagnie minière {}", "Compañía Minera {}"],
        ["{} Coffee Traders", "Négociants en café {}", "Comerciantes de Café {}"],
        ["{} Telecom", "{} Télécom", "{} Telecomunicaciones"],
        ["{} Business Council for Decent Work", "Conseil d'entreprises {} pour le travail décent", "Consejo Empresarial {} para el Trabajo Decente"],
        ["{} Cocoa Partnership", "Partenariat cacao {}", "Alianza del Cacao {}"],
    ]},
    Invented { group: G::Foundation, count: 12, types: &["60"], key_prefix: "fdn", templates: &[
        ["{} Foundation", "Fondation {}", "Fundación {}"],
        ["{} Family Foundation for Work and Dignity", "Fondation familiale {} pour le travail et la dignité", "Fundación Familia {} para el Trabajo y la Dignidad"],
        ["{} Trust", "Fondation {}", "Fideicomiso {}"],
    ]},
    Invented { group: G::SocialPartner, count: 8, types: &["21", "22"], key_prefix: "sp", templates: &[
        ["{} Confederation of Trade Unions", "Confédération syndicale {}", "Confederación Sindical {}"],
        ["{} Employers' Federation", "Fédération des employeurs {}", "Federación de Empleadores {}"],
        ["{} Workers' Solidarity Centre", "Centre de solidarité des travailleurs {}", "Centro de Solidaridad Obrera {}"],
        ["{} Chamber of Commerce and Industry", "Chambre de commerce et d'industrie {}", "Cámara de Comercio e Industria {}"],
    ]},
    Invented { group: G::CivilSociety, count: 24, types: &["21", "22", "23", "24"], key_prefix: "cso", templates: &[
        ["{} Alliance for Child Rights", "Alliance {} pour les droits de l'enfant", "Alianza {} por los Derechos del Niño"],
        ["{} Migrant Workers' Network", "Réseau {} des travailleurs migrants", "Red {} de Trabajadores Migrantes"],
        ["{} Women's Cooperative Association", "Association coopérative de femmes {}", "Asociación Cooperativa de Mujeres {}"],
        ["{} Community Development Trust", "Fonds de développement communautaire {}", "Fondo de Desarrollo Comunitario {}"],
        ["{} Parliamentarians for Decent Work", "Parlementaires {} pour le travail décent", "Parlamentarios {} por el Trabajo Decente"],
    ]},
    Invented { group: G::Academic, count: 12, types: &["80"], key_prefix: "acad", templates: &[
        ["University of {}", "Université de {}", "Universidad de {}"],
        ["{} Institute of Labour Studies", "Institut {} d'études du travail", "Instituto {} de Estudios Laborales"],
        ["{} School of Economics", "École d'économie de {}", "Escuela de Economía de {}"],
    ]},
    Invented { group: G::Other, count: 5, types: &["90"], key_prefix: "oth", templates: &[
        ["{} Sports for Development Network", "Réseau {} du sport pour le développement", "Red {} de Deporte para el Desarrollo"],
        ["{} Cultural Heritage Society", "Société {} du patrimoine culturel", "Sociedad {} del Patrimonio Cultural"],
    ]},
];

/// Made-up proper names, chosen to belong to no real organisation.
const PROPER_NAMES: &[&str] = &[
    "Aldmere",
    "Brightwater",
    "Calderon",
    "Dunmore",
    "Eastvale",
    "Fairhaven",
    "Glenrock",
    "Harrowgate",
    "Ivybridge",
    "Juniper",
    "Kestrel",
    "Larkspur",
    "Meridian",
    "Northwind",
    "Oakhurst",
    "Pinecrest",
    "Quillon",
    "Riverton",
    "Silverline",
    "Thornbury",
    "Umberland",
    "Valemont",
    "Westbrook",
    "Yarrow",
    "Zenith",
    "Amberley",
    "Bluehaven",
    "Corvale",
    "Driftwood",
    "Emberton",
    "Foxglove",
    "Greystone",
];

/// The suffix every demo name carries, by language.
pub(crate) const SYNTHETIC: [&str; 3] = [" (synthetic)", " (synthétique)", " (sintético)"];

/// Names in three languages with the synthetic label.
pub(crate) fn labelled(names: [&str; 3]) -> Names {
    Names {
        en: format!("{}{}", names[0], SYNTHETIC[0]),
        fr: format!("{}{}", names[1], SYNTHETIC[1]),
        es: format!("{}{}", names[2], SYNTHETIC[2]),
    }
}

/// Countries the invented partners are based in, with more weight on the Global South.
const INVENTED_COUNTRIES: &[&str] = &[
    "KE", "NG", "GH", "ZA", "SN", "CI", "ET", "TZ", "UG", "BD", "IN", "ID", "PH", "VN", "KH", "PK",
    "BR", "CO", "PE", "MX", "GT", "JO", "LB", "TR", "GB", "DE", "FR", "NL", "CH", "US", "CA", "JP",
];

/// Build the partners. Every profile's group is checked against the bundled partner-group rules; where the
/// rules derive another group (social partners that publish as NGOs), the group is set by hand.
pub(crate) fn build(rng: &mut Rng) -> Vec<PartnerProfile> {
    let rules = PartnerGroupRules::bundled();
    let mut profiles: Vec<PartnerProfile> = Vec::new();
    for spec in CURATED {
        profiles.push(profile(
            rules,
            spec.key.to_owned(),
            labelled(spec.names),
            spec.iati_ref.map(str::to_owned),
            spec.organisation_type,
            spec.country.map(str::to_owned),
            spec.group,
            spec.kind,
            spec.currency,
        ));
    }
    let mut names: Vec<&str> = PROPER_NAMES.to_vec();
    for invented in INVENTED {
        rng.shuffle(&mut names);
        for number in 0..invented.count {
            let proper = names[number % names.len()];
            let template = invented.templates[number % invented.templates.len()];
            let filled = template.map(|t| t.replace("{}", proper));
            let country = *rng.pick(INVENTED_COUNTRIES);
            let organisation_type: &&str = rng.pick(invented.types);
            let currency = match country {
                "GB" => "GBP",
                "DE" | "FR" | "NL" => "EUR",
                "CH" => "CHF",
                _ => "USD",
            };
            profiles.push(profile(
                rules,
                format!("{}-{}-{:02}", invented.key_prefix, slug(proper), number + 1),
                labelled([&filled[0], &filled[1], &filled[2]]),
                None,
                organisation_type,
                Some(country.to_owned()),
                invented.group,
                FunderKind::Other,
                currency,
            ));
        }
    }
    profiles
}

#[allow(clippy::too_many_arguments)]
fn profile(
    rules: &PartnerGroupRules,
    key: String,
    names: Names,
    iati_ref: Option<String>,
    organisation_type: &str,
    country: Option<String>,
    group: PartnerGroup,
    kind: FunderKind,
    currency: &'static str,
) -> PartnerProfile {
    let derived = rules
        .derive(iati_ref.as_deref(), Some(organisation_type))
        .group;
    PartnerProfile {
        partner: Partner {
            key,
            names,
            iati_ref,
            organisation_type: Some(organisation_type.to_owned()),
            country,
            group_override: (derived != group).then_some(group),
            synthetic: true,
        },
        group,
        kind,
        currency,
    }
}

fn slug(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The group a partner counts in: the one set by hand, else the one the rules derive.
pub fn effective_group(partner: &Partner) -> PartnerGroup {
    partner.group_override.unwrap_or_else(|| {
        PartnerGroupRules::bundled()
            .derive(
                partner.iati_ref.as_deref(),
                partner.organisation_type.as_deref(),
            )
            .group
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_social_partners_without_a_listed_identifier_need_a_group_set_by_hand() {
        let profiles = build(&mut Rng::new(7));
        for profile in &profiles {
            assert_eq!(
                effective_group(&profile.partner),
                profile.group,
                "{}",
                profile.partner.key
            );
            if profile.partner.group_override.is_some() {
                assert_eq!(
                    profile.group,
                    PartnerGroup::SocialPartner,
                    "{}",
                    profile.partner.key
                );
                assert_eq!(profile.partner.iati_ref, None);
            }
        }
        let keys: std::collections::HashSet<&str> =
            profiles.iter().map(|p| p.partner.key.as_str()).collect();
        assert_eq!(keys.len(), profiles.len(), "partner keys are unique");
    }
}
