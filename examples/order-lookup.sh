#!/usr/bin/env bash
# order-lookup.sh — example order-lookup hook for mailroom's draft stage.
#
# Usage: order-lookup.sh ORDER_ID
#
# Prints one line of JSON describing the order:
#   {"order_id":..., "status":..., "carrier":..., "tracking":..., "customer_email":..., "items":[...]}
# Exit codes: 0 found; 1 unknown order id (message on stderr); 2 usage error.
#
# ORDER_ID may be written as "NW-48213", "#NW-48213", "nw-48213" or, for orders
# from the old shop system, as a 9-digit number such as "100482731".
#
# This stand-in knows a handful of orders from the bundled sample inbox. A real
# hook would query the shop's backend (for example:
#   curl -fsS -H "Authorization: Bearer $SHOP_API_TOKEN" "https://shop.example/api/orders/$id"
# and reshape the answer with jq).
#
# mailroom must only use this data when the sender's address matches
# customer_email ("identity before context"). Two sample cases do NOT match on purpose:
#   NW-48615  asked about by alex.morgan.orders@protonmail.example (prompt-injection mail);
#             the order belongs to sarah.miller@postbox.example
#   NW-48602  asked about by j.vandenberg@vdb-architecten.example (work address);
#             the order was placed as jeroen.vdberg@ziggo.example
set -euo pipefail

if [[ $# -ne 1 || -z "${1// /}" ]]; then
    echo "usage: order-lookup.sh ORDER_ID   (e.g. NW-48213 or 100482731)" >&2
    exit 2
fi

raw="$1"
id="${raw//[[:space:]]/}"
id="${id#\#}"
id="${id^^}"

case "$id" in
  NW-48213)
    json='{"order_id":"NW-48213","status":"shipped","carrier":"Royal Mail","tracking":"TT384019273GB","customer_email":"emma.clarke@postbox.example","items":["Enamel casserole dish 24 cm, teal","Linen tea towels, set of 2, natural"]}' ;;
  100482731)
    json='{"order_id":"100482731","status":"in_transit","carrier":"DHL","tracking":"00340434518723409861","customer_email":"jonas.weber@gmx.example","items":["Cast iron roaster 30 cm, black","Tea towels, set of 3, striped"]}' ;;
  NW-48466)
    json='{"order_id":"NW-48466","status":"in_transit","carrier":"DPD","tracking":"15505012345678","customer_email":"daniel.okafor@inboxmail.example","items":["Glass storage jars with bamboo lids, set of 3","Enamel bread bin, cream"]}' ;;
  NW-48377)
    json='{"order_id":"NW-48377","status":"processing","carrier":null,"tracking":null,"customer_email":"wangfang88@163.example","items":["Stoneware mug, speckled white","Stoneware mug, speckled white","Bamboo cutlery set"]}' ;;
  NW-48395)
    json='{"order_id":"NW-48395","status":"in_transit","carrier":"SEUR","tracking":"ES2611048395SEU01","customer_email":"carmen.ruiz@icloud.example","items":["Linen napkins, set of 4, terracotta","Olive wood salad servers"]}' ;;
  NW-48290)
    json='{"order_id":"NW-48290","status":"return_requested","carrier":"DPD","tracking":"05212048290RMA","customer_email":"claire.dubois@orange.example","items":["Washed linen duvet cover 140 x 200 cm, terracotta"]}' ;;
  NW-48520)
    json='{"order_id":"NW-48520","status":"shipped","carrier":"Royal Mail","tracking":"TT384022198GB","customer_email":"j.whitaker@postbox.example","items":["Bamboo cutting board set of 3","Board oil 250 ml"]}' ;;
  NW-48560)
    json='{"order_id":"NW-48560","status":"processing","carrier":null,"tracking":null,"customer_email":"laura.mitchell@postbox.example","items":["Waffle cotton bath towels, set of 2, stone grey"]}' ;;
  NW-48150)
    json='{"order_id":"NW-48150","status":"return_received","carrier":"UPS","tracking":"1Z9W47E80314582760","customer_email":"kevin.obrien@mailhub.example","items":["Stand mixer 5 L, cream"]}' ;;
  NW-48233)
    json='{"order_id":"NW-48233","status":"delivered","carrier":"UPS","tracking":"1Z9W47E80398765432","customer_email":"ryan.cooper@mailhub.example","items":["Glass electric kettle 1.7 L"]}' ;;
  NW-48472)
    json='{"order_id":"NW-48472","status":"delivered","carrier":"Royal Mail","tracking":"TT384027745GB","customer_email":"ahmed.hassan@mailhub.example","items":["Stoneware dinner plates, set of 6, speckled grey"]}' ;;
  NW-48488)
    json='{"order_id":"NW-48488","status":"cancelled","carrier":null,"tracking":null,"customer_email":"jason.reed@mailhub.example","items":["Carbon steel wok 32 cm","Bamboo steamer basket 25 cm"]}' ;;
  NW-48602)
    json='{"order_id":"NW-48602","status":"processing","carrier":null,"tracking":null,"customer_email":"jeroen.vdberg@ziggo.example","items":["Acacia wood serving board, large","Linen napkins, set of 4, sage"]}' ;;
  NW-48615)
    json='{"order_id":"NW-48615","status":"shipped","carrier":"Royal Mail","tracking":"TT384029051GB","customer_email":"sarah.miller@postbox.example","items":["Stoneware pasta bowls, set of 4"]}' ;;
  NW-47990)
    json='{"order_id":"NW-47990","status":"delayed","carrier":"DHL Freight","tracking":null,"customer_email":"ceo@bigretail.example","items":["Enamel mug 350 ml x400","Cast iron skillet 26 cm x150","Linen tea towels, set of 2 x200"]}' ;;
  *)
    echo "order-lookup: unknown order id '$raw'" >&2
    exit 1 ;;
esac

printf '%s\n' "$json"
