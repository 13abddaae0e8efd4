"""A group as the review page shows it: its members keeper first, described for a person."""

import json

from shashin import review, trash

from .rendering import file_fields, member_key


def group_view(group, members, saving):
    members = review.keeper_first(members)
    tags = review.differing_tags(members)
    return {
        "id": group["id"],
        "kind": group["kind"],
        "saving": trash.human_size(saving),
        "max_distance": group.get("max_distance"),
        "warnings": review.warnings(members),
        "members": [
            dict(
                member,
                **file_fields(member["path"], member["size"]),
                keeper=index == 0,
                key=member_key(member["path"]),
                reasons=json.loads(member.get("reasons") or "[]"),
                camera=review.camera(member),
                taken=review.taken(member),
                tags={tag.split(":", 1)[-1]: (tag, value) for tag, value in tags[index].items()},
            )
            for index, member in enumerate(members)
        ],
    }
