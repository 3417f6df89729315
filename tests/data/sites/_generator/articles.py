"""Article texts of the fixture sites: the seeds (seeds/) and invented cooperation stories in their style."""
DBA = [
 dict(slug="cooperation-partage-dexperience-entre-la-tunisie-et-les-usa-dans-le-domaine-numerique",
  title="Coopération : Partage d’expérience entre la Tunisie et les USA dans le domaine numérique",
  iso="2024-01-24T09:30:12+01:00", rfc="Wed, 24 Jan 2024 08:30:12 +0000", fr="24 janvier 2024", pid=81243,
  author="Jean Materne Zambo", cats=["Coopération", "Tunisie", "Etats-Unis", "TIC"],
  paras=[
  "[DIGITAL Business Africa] – Le ministre des Technologies de la Communication, Nizar Ben Néji et l’ambassadeur des USA, l Joey Hood ont parlé coopération bilatérale. Lors d’une audience tenue ce mardi 23 janvier 2024, les deux homologues ont convenu de mettre sur pied plusieurs activités stratégiques dont l’objectif est l’échange de connaissances et le renforcement des capacités dans divers domaines liés aux TIC.",
  "Notamment des ateliers de travail, réunissant des experts des deux côtés, pour discuter des technologies de la 5G, des fondamentaux de la cybersécurité et d’autres innovations technologiques et une visite sur le terrain pour un groupe d’ingénieurs et de techniciens du secteur, aux États-Unis.",
  "Selon le ministre des Technologies de la Communication, Nizar Ben Néji, « cela leur offrira l’opportunité d’échanger des expériences avec leurs homologues américains dans les domaines de la cybersécurité, de la protection des infrastructures, des services numériques, des technologies de communication par satellite, des start-ups et des incubateurs de projets ».",
  "La ministre des Technologies de la Communication, Nizar Ben Neji, s’est également entretenu, le 15 janvier 2024 avec la Représentante Résidente de la JICA en Tunisie Miyata Mayumi au sujet de sa dernière mission officielle au Japon en octobre 2023.",
  "Rappelons que le ministre prenait part à la 18ème réunion annuelle du Forum de la Gouvernance de l’Internet (IGF 2023) tenue à Kyoto. Nizar Ben Neji y a rencontré des cadre de L’Agence japonaise de coopération internationale (Jica) pour discuter des opportunités de coopération entre les deux institutions.",
  ]),
 dict(slug="la-tunisie-et-la-coree-du-sud-unissent-leurs-forces-pour-linnovation-numerique",
  title="La Tunisie et la Corée du Sud unissent leurs forces pour l’innovation numérique",
  iso="2024-06-05T17:02:44+01:00", rfc="Wed, 05 Jun 2024 16:02:44 +0000", fr="5 juin 2024", pid=84410,
  author="Ange Ponou", cats=["Coopération", "Tunisie", "Corée du Sud"],
  paras=[
  "À l’invitation du ministre coréen des Sciences et des Technologies de l’information et de la communication, Nizar Ben Neji, ministre tunisien des Technologies de la communication, participe au Forum mondial des leaders des TIC (Global ICT Leadership Forum) à Séoul. Cette dixième édition du forum se déroule en parallèle avec le premier Sommet Corée-Afrique, les 4 et 5 juin 2024, sous le thème « Renforcer la solidarité Corée-Afrique par l’innovation numérique ». L’événement rassemble 13 ministres africains chargés des technologies de l’information, de la communication et de la numérisation.",
  "Ce forum vise à discuter des stratégies de solidarité pour atteindre les objectifs de développement durable en renforçant l’innovation numérique. Il aborde également l’avenir de la coopération entre la Corée et l’Afrique à l’ère de la numérisation, en échangeant les meilleures pratiques et les expériences réussies dans ce domaine.",
  "À cette occasion, un mémorandum d’accord a été signé entre le ministère tunisien des Technologies de la communication et le ministère coréen des Sciences et des Technologies de l’information. Cet accord vise à renforcer la coopération dans le domaine des technologies de l’information et de la communication, notamment en soutenant la transformation numérique et en développant les services de gouvernement électronique. L’accent sera mis sur la mise en œuvre d’applications numériques dans divers secteurs tels que la santé numérique, le transport intelligent et l’éducation utilisant les technologies modernes.",
  "La Corée du Sud, classée troisième au monde en matière de gouvernance électronique et d’adoption de technologies modernes, apportera son expertise pour améliorer les infrastructures de réseaux à haut débit et déployer des services 5G en Tunisie. Ce partenariat prévoit également l’échange de connaissances et l’application des technologies avancées dans les domaines du cloud computing, du big data, de l’Internet des objets et de l’intelligence artificielle.",
  ]),
 dict(slug="cameroun-yaounde-et-pekin-signent-un-memorandum-dentente-sur-la-cybersecurite",
  title="Cameroun : Yaoundé et Pékin signent un mémorandum d’entente sur la cybersécurité et les compétences numériques",
  iso="2024-03-12T11:47:05+01:00", rfc="Tue, 12 Mar 2024 10:47:05 +0000", fr="12 mars 2024", pid=82977,
  author="Jean Materne Zambo", cats=["Coopération", "Cameroun", "Chine", "Cybersécurité"],
  paras=[
  "[DIGITAL Business Africa] – La ministre des Postes et Télécommunications, Minette Libom Li Likeng, et l’ambassadeur de Chine au Cameroun, Wang Dong, ont signé le 11 mars 2024 à Yaoundé un mémorandum d’entente sur la cybersécurité et le développement des compétences numériques.",
  "Le texte prévoit la formation de 1 000 jeunes Camerounais aux métiers du numérique d’ici 2026, dont 300 spécialistes de la sécurité des systèmes d’information, ainsi que l’appui technique de la partie chinoise à l’Agence nationale des technologies de l’information et de la communication (ANTIC).",
  "Les deux parties s’engagent également à échanger leurs expériences en matière de protection des infrastructures critiques, de lutte contre la cybercriminalité et de régulation des contenus en ligne. Un comité mixte de suivi se réunira deux fois par an, alternativement à Yaoundé et à Pékin.",
  "Pour la ministre Minette Libom Li Likeng, « ce partenariat arrive à point nommé, au moment où notre pays accélère la mise en œuvre du Plan stratégique Cameroun numérique 2020 ». Le diplomate chinois a pour sa part salué « une coopération gagnant-gagnant qui place la jeunesse au cœur de la transformation numérique ».",
  ]),
]

ECOFIN = [
 dict(path="/telecom/1206-66512-l-egypte-et-la-russie-envisagent-un-centre-d-excellence-pour-la-cybersecurite",
  title="L’Egypte et la Russie envisagent un centre d’excellence pour la cybersécurité",
  iso="2019-06-12T11:04:00+00:00", rfc="Wed, 12 Jun 2019 11:04:00 +0000", fr="mercredi, 12 juin 2019 11:04",
  cat="Télécom", intro=
  "(Agence Ecofin) - Amr Talaat, le ministre égyptien des Communications et de la Technologie de l'information, a rencontré son homologue russe, Konstantin Noskov, le ministre russe du développement numérique, des Communications et des Mass Media, le 09 juin 2019, au Japon. Ils ont convenu de coopérer dans le domaine de la cybersécurité, en étudiant la possibilité de créer un centre d'excellence pour la cybersécurité en Egypte, financé conjointement par les deux parties.",
  full=[
  "L’Egypte est actuellement engagée dans une profonde transformation numérique. Le pays ne cesse d’adopter de nouvelles technologies pour améliorer, aussi bien les services publics que son économie et les conditions de vie des populations. Mais l’adoption de toutes ces technologies de pointe requiert une protection informatique de haut niveau. Former des ressources humaines aptes à sécuriser les systèmes et réseaux informatiques et télécoms de l’Egypte, dans le prochain monde numérique, est la garantie de préserver le développement futur du pays de tout heurt.",
  "La rencontre entre Amr Talaat et Konstantin Noskov, elle s’est tenue en marge de la réunion ministérielle du G20 sur le commerce et l'économie numérique, les 8 et 9 juin dans la préfecture japonaise d'Ibaraki. Au cours de cette rencontre, les deux parties ont également discuté de l’amélioration de la coopération dans le domaine des TIC. Elles ont aussi poursuivi les discussions engagées dans ce sens en mars dernier, lors de la visite du ministre russe en Egypte, à la tête d’une délégation de haut niveau comprenant des représentants du gouvernement et de sociétés russes.",
  "LIRE",
  "Amr Talaat et Konstantin Noskov ont par ailleurs discuté de la promotion de la coopération dans la conception et la fabrication de produits électroniques, de l'intelligence artificielle et du renforcement des capacités dans les spécialités technologiques. Cela s'ajoute à l'établissement de partenariats avec les principaux établissements d'enseignement russes, dans le cadre de l'initiative Next Technology Leaders (NTL) pour des programmes de formation spécialisés en informatique et en IA.",
  ], byline="Muriel Edjo"),
 dict(path="/telecom/2002-115870-le-benin-et-l-estonie-signent-un-accord-de-cooperation-dans-la-gouvernance-numerique",
  title="Le Bénin et l’Estonie signent un accord de coopération dans la gouvernance numérique",
  iso="2024-02-20T14:12:00+00:00", rfc="Tue, 20 Feb 2024 14:12:00 +0000", fr="mardi, 20 février 2024 14:12",
  cat="Gestion Publique", intro=
  "(Agence Ecofin) - Le gouvernement béninois veut s’inspirer du modèle estonien pour accélérer la dématérialisation de ses services publics. Un accord a été signé à cet effet le 19 février à Tallinn entre la ministre béninoise du Numérique et de la Digitalisation, Aurelie Adam Soule Zoumarou, et son homologue estonien.",
  full=[
  "L’accord porte sur l’interopérabilité des systèmes d’information de l’administration, l’identité numérique et la cybersécurité. Il prévoit l’envoi d’experts estoniens à Cotonou pour accompagner l’Agence des systèmes d’information et du numérique (ASIN) dans la mise en place d’une plateforme d’échange de données inspirée de X-Road.",
  "LIRE",
  "Le Bénin, qui a déjà lancé son portail national des services publics, compte sur ce partenariat pour porter à 500 le nombre de procédures accessibles en ligne d’ici 2026. Les deux pays ont également convenu d’organiser des sessions de formation conjointes pour les agents publics béninois chargés de la transformation numérique.",
  ], byline="Isaac K. Kassouwi"),
 dict(path="/telecom/0511-117204-le-senegal-et-le-maroc-renforcent-leur-cooperation-dans-les-telecommunications",
  title="Le Sénégal et le Maroc renforcent leur coopération dans les télécommunications",
  iso="2024-05-06T09:35:00+00:00", rfc="Mon, 06 May 2024 09:35:00 +0000", fr="lundi, 06 mai 2024 09:35",
  cat="Télécom", intro=
  "(Agence Ecofin) - Les régulateurs des télécommunications du Sénégal et du Maroc ont signé le 3 mai à Rabat une convention de partenariat. Elle vise l’échange d’expertise dans la gestion du spectre, la qualité de service et la protection des consommateurs.",
  full=[
  "L’Autorité de régulation des télécommunications et des postes (ARTP) du Sénégal et l’Agence nationale de réglementation des télécommunications (ANRT) du Maroc prévoient des missions d’experts, des formations croisées et des études communes sur le déploiement de la 5G et le partage des infrastructures.",
  "La convention intervient alors que les deux pays préparent l’attribution de nouvelles fréquences. Elle s’inscrit dans la continuité de l’accord-cadre de coopération numérique signé en 2022 par les gouvernements sénégalais et marocain.",
  ], byline=None),
]

ICESCO = [
 dict(date="2024/05/29", slug="signature-dun-accord-de-cooperation-entre-licesco-et-laicto",
  title="Signature d’un accord de coopération entre l’ICESCO et l’AICTO",
  iso="2024-05-29T15:20:31+00:00", fr="29 mai 2024", page=1,
  paras=[
  "L’Organisation du Monde Islamique pour l’Éducation, les Sciences et la Culture (ICESCO) et l’Organisation Arabe des Technologies de l’Information et de la Communication (AICTO) relevant de la Ligue des États arabes, ont signé un accord de coopération visant à promouvoir la gouvernance numérique par l’élaboration de politiques et de stratégies, à coordonner avec les États membres la mise en place de mécanismes conjoints pour développer des solutions permettant d’améliorer le niveau des services électroniques intelligents et proactifs, et à sensibiliser les jeunes aux mécanismes d’innovation, aux exigences numériques pour les métiers du futur et aux opportunités offertes par les applications de la transformation numérique.",
  "L’accord a été signé mardi 28 mai 2024, par Mme Sally Mabrouk, Directrice du Bureau du Directeur général de l’ICESCO, et l’ingénieur Mohamed Ben Amor, Secrétaire général de l’AICTO, en présence de nombre de hauts responsables, d’experts et de chercheurs, en marge de la 21ème Assemblée générale de l’AICTO et du Forum IPv6 Gala 2024, tenus à Marrakech, au Royaume du Maroc.",
  "Dans un allocution vidéo diffusée lors de la séance d’ouverture, Dr Salim AlMalik, Directeur général de l’ICESCO, a souligné que l’internet n’est plus seulement un ensemble d’infrastructures et d’applications numériques, mais un réseau d’interactions sociales, économiques, culturelles et éducatives qui transcendent les limites de la technologie et offrent des opportunités pour le progrès de l’être humain et de la société.",
  "Le Directeur général a précisé que le présent accord vise à consolider le concept de gouvernance numérique, la cybersécurité et la protection des données personnelles, et à promouvoir l’utilisation de la technologie pour le développement durable, tout en soutenant des projets technologiques qui contribuent à la croissance économique et à l’amélioration de la qualité de vie dans le monde islamique.",
  "Pour sa part, l’ingénieur Mohamed Ben Amor a appelé à l’intensification des efforts déployés par les acteurs du secteur de la communication et de l’internet, en raison de son importance capitale pour atteindre les objectifs du développement durable (ODD) et pour l’épanouissement des sociétés. Il a également salué les efforts déployés par l’ICESCO visant à combler le fossé numérique au sein des États membres.",
  "Selon les termes de l’accord signé entre les deux parties, la coopération comprend la co-organisation de forums et d’activités liés aux domaines d’intérêt commun, l’élaboration d’études conjointes dans les domaines du développement technologique, la formation et l’appui aux jeunes porteurs de projets d’innovation, ainsi que l’échange d’expertise et d’expériences liées au développement numérique avec les États membres.",
  ]),
 dict(date="2024/04/16", slug="licesco-et-louzbekistan-renforcent-leur-cooperation-dans-lintelligence-artificielle",
  title="L’ICESCO et l’Ouzbékistan renforcent leur coopération dans le domaine de l’intelligence artificielle",
  iso="2024-04-16T10:05:12+00:00", fr="16 avril 2024", page=1,
  paras=[
  "Le Directeur général de l’Organisation du Monde Islamique pour l’Éducation, les Sciences et la Culture (ICESCO), Dr Salim AlMalik, a reçu mardi 16 avril 2024, au siège de l’Organisation à Rabat, le ministre ouzbek des Technologies numériques, M. Sherzod Shermatov, accompagné d’une délégation de haut niveau.",
  "Les deux parties ont examiné les moyens de renforcer la coopération dans les domaines de l’intelligence artificielle, de la formation des jeunes aux compétences numériques et de la numérisation du patrimoine culturel, en vue de la signature d’un programme exécutif conjoint pour la période 2024-2026.",
  "Le Directeur général a présenté la Charte de l’ICESCO sur l’éthique de l’intelligence artificielle et a proposé que l’Ouzbékistan accueille un atelier régional consacré à l’usage de l’IA dans l’éducation au profit des États membres d’Asie centrale.",
  "De son côté, le ministre ouzbek a salué le rôle de l’ICESCO dans la réduction de la fracture numérique et a exprimé la disponibilité de son pays à partager son expérience dans le domaine de l’administration électronique.",
  ]),
 dict(date="2024/03/05", slug="licesco-et-le-senegal-lancent-un-programme-de-formation-des-enseignants-au-numerique",
  title="L’ICESCO et le Sénégal lancent un programme de formation des enseignants au numérique",
  iso="2024-03-05T09:41:50+00:00", fr="5 mars 2024", page=2,
  paras=[
  "L’Organisation du Monde Islamique pour l’Éducation, les Sciences et la Culture (ICESCO) et le ministère sénégalais de l’Éducation nationale ont lancé, lundi 4 mars 2024 à Dakar, un programme conjoint de formation des enseignants à l’usage des technologies numériques dans l’enseignement.",
  "Le programme, mis en œuvre avec l’appui du Bureau régional de l’ICESCO à Dakar, bénéficiera dans une première phase à 500 enseignants du cycle moyen, formés à la conception de ressources pédagogiques numériques et à la sécurité en ligne des élèves.",
  "Cette initiative s’inscrit dans le cadre de l’accord de coopération signé entre l’ICESCO et la République du Sénégal, qui prévoit également l’équipement de salles multimédias dans des établissements pilotes et la création d’une plateforme nationale de contenus éducatifs en langue française et en langues nationales.",
  ]),
]

SPUTNIK = [
 dict(path="/20230723/liran-offre-au-mali-ses-competences-en-matiere-de-telecommunications-et-de-cybersecurite-1060715436.html",
  title="L’Iran offre au Mali ses compétences en matière de télécommunications et de cybersécurité",
  unixtime=1690113420, iso="2023-07-23T11:57:00+00:00", rfc="Sun, 23 Jul 2023 14:57:00 +0300", shown="23.07.2023",
  announce="Téhéran s’est engagé à former des experts maliens dans des domaines liés au numérique, rapportent les médias à l’issue d’une rencontre entre le ministre malien de la Communication et l’ambassadeur iranien à Bamako.",
  blocks=[
  ("text", "Le ministère malien de la Communication et de l’Économie numérique a annoncé la volonté de l’Iran de former des spécialistes maliens dans des domaines tels que la communication, les télécommunications, la cybersécurité et la 5G."),
  ("text", "Cet engagement iranien a été exprimé lors d’une réunion entre le ministre malien Alhamdou Ag Ilyène et l’ambassadeur iranien Hossein Taleshi Salehani mercredi 19 juillet."),
  ("text", "La rencontre s’est tenue dans le but de renforcer la coopération entre l’Iran et le Mali, en mettant l’accent sur les domaines des télécommunications et du numérique. Plusieurs projets ont été annoncés, tels que la création d’un centre d’innovation au Mali et le renforcement des capacités de la télévision nationale malienne."),
  ("article", "Le Mali et la Russie signent un accord sur le nucléaire civil"),
  ("text", "La seule information supplémentaire divulguée concernant le programme de formation indique que les experts seront désignés parmi les cadres du ministère."),
  ("h2", "Les visites réciproques des chefs de diplomatie"),
  ("text", "Le numérique est un nouveau domaine de coopération entre Bamako et Téhéran."),
  ("text", "Leur rapprochement avait connu une nouvelle étape en 2022, l’année des visites croisées du ministre malien des Affaires étrangères Abdoulaye Diop en février à Téhéran et de son homologue iranien Hossein Amir-Abdollahian à Bamako en août."),
  ("text", "Les domaines de la sécurité, de la lutte contre le terrorisme, de la santé, de l’enseignement supérieur, de la recherche scientifique, des technologies, de l’agriculture et de l’élevage avaient été alors abordés."),
  ]),
 dict(path="/20240208/lalgerie-et-la-russie-vont-cooperer-dans-la-cybersecurite-1065032211.html",
  title="L’Algérie et la Russie vont coopérer dans la cybersécurité",
  unixtime=1707393600, iso="2024-02-08T12:00:00+00:00", rfc="Thu, 08 Feb 2024 15:00:00 +0300", shown="08.02.2024",
  announce="Alger et Moscou ont signé un mémorandum d’entente pour renforcer leur coopération dans la sécurité de l’information, a annoncé le ministère algérien de la Poste et des Télécommunications.",
  blocks=[
  ("text", "Le document a été signé à Alger par le ministre algérien de la Poste et des Télécommunications et le vice-ministre russe du Développement numérique, en marge d’une session de la commission intergouvernementale mixte."),
  ("text", "Il prévoit l’échange d’informations sur les menaces informatiques, la formation d’ingénieurs algériens dans des universités russes et la coopération entre les centres nationaux de réponse aux incidents."),
  ("article", "L’Afrique du Sud et la Russie discutent de la coopération spatiale"),
  ("text", "Les deux pays ont également évoqué la possibilité de projets communs dans la fabrication d’équipements de télécommunications et le développement de solutions de cloud souverain."),
  ]),
 dict(path="/20240614/le-burkina-faso-et-la-russie-signent-un-accord-dans-le-domaine-du-numerique-1067103377.html",
  title="Le Burkina Faso et la Russie signent un accord dans le domaine du numérique",
  unixtime=1718366520, iso="2024-06-14T12:02:00+00:00", rfc="Fri, 14 Jun 2024 15:02:00 +0300", shown="14.06.2024",
  announce="Ouagadougou et Moscou ont conclu un accord de coopération portant sur la transformation numérique, la formation et la sécurité des réseaux, a indiqué le gouvernement burkinabè.",
  blocks=[
  ("text", "L’accord a été signé à Saint-Pétersbourg par la ministre burkinabè de la Transition digitale, des Postes et des Communications électroniques et son homologue russe, en marge du Forum économique international."),
  ("h2", "Formation et centres de données"),
  ("text", "Il prévoit l’accueil d’étudiants burkinabè dans des écoles d’ingénieurs russes, l’appui à la construction d’un centre de données national et l’échange d’expériences dans la lutte contre la cybercriminalité."),
  ("text", "Selon la partie burkinabè, un premier groupe de 50 techniciens doit être formé dès la rentrée universitaire."),
  ]),
]
